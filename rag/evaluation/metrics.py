"""The figures of the eval, as small pure functions over titles, answers and scores.

Retrieval is scored at the document level: passages are mapped to their paper's title, the first
occurrence of each paper is kept, and llama-index's retrieval metrics (HitRate, Recall, MRR) score
that ranking against the gold titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from llama_index.core.evaluation.retrieval.metrics import MRR, HitRate, Recall

from rag.answer.citations import cited_numbers, strip_citations
from rag.core.types import Answer, Passage

SupportCheck = Callable[[str, str], bool]
SentenceSplitter = Callable[[str], list[str]]


def norm_title(title: str) -> str:
    """Titles compared without case or whitespace differences."""
    return " ".join(title.split()).casefold()


def doc_ranking(passages: Iterable[Passage]) -> list[str]:
    """The retrieved papers' titles in rank order, each paper once (its best passage's rank)."""
    seen: set[str] = set()
    ranked: list[str] = []
    for p in passages:
        key = norm_title(p.title)
        if key not in seen:
            seen.add(key)
            ranked.append(p.title)
    return ranked


def retrieval_scores(ranked_titles: Sequence[str], gold_titles: Sequence[str]) -> dict[str, float]:
    """hit@1, recall@5 and MRR@10 of a document ranking against the gold titles."""
    expected = [norm_title(t) for t in gold_titles]
    retrieved = [norm_title(t) for t in ranked_titles]

    def score(metric: Any, cutoff: int) -> float:
        # llama-index's metrics refuse an empty ranking; nothing retrieved scores 0.
        if not retrieved:
            return 0.0
        top = retrieved[:cutoff]
        return float(metric.compute(expected_ids=expected, retrieved_ids=top).score)

    return {
        "hit@1": score(HitRate(), 1),
        "recall@5": score(Recall(), 5),
        "mrr@10": score(MRR(), 10),
    }


def _comparable(text: str) -> str:
    """Case, whitespace and the spellings of one figure made equal: "6 times", "6×" and "6x";
    "20–25" and "20-25"; "10^{19}" and "10^19", "n^{1+o(1)}" and "n^(1+o(1))", TeX as the
    answer shows it (what the reader sees is the same fact)."""
    s = " ".join(text.split()).casefold()
    s = re.sub(r"[–—]", "-", s)
    s = re.sub(r"\^\{(\d+)\}", r"^\1", s)
    s = re.sub(r"\^\{([^{}]{2,40})\}", r"^(\1)", s)
    return re.sub(r"(\d)\s*(?:×|x\b|times\b)", r"\1x", s)


def missing_keywords(text: str, keywords: Sequence[str]) -> list[str]:
    """The keywords absent from `text` (case-insensitive, whitespace-normalised, "6 times" =
    "6×")."""
    hay = _comparable(text)
    return [k for k in keywords if _comparable(k) not in hay]


def lead_cited_titles(lead: str, answer: Answer) -> list[str]:
    """The titles of the papers the first line cites."""
    by_number = {c.number: c.title for c in answer.citations}
    return [by_number[n] for n in cited_numbers(lead) if n in by_number]


def citation_precision_recall(
    cited_titles: Sequence[str], gold_titles: Sequence[str]
) -> tuple[float | None, float | None]:
    """Cited papers that are gold / all cited (None without citations); gold cited / gold."""
    cited = {norm_title(t) for t in cited_titles}
    gold = {norm_title(t) for t in gold_titles}
    precision = len(cited & gold) / len(cited) if cited else None
    recall = len(cited & gold) / len(gold) if gold else None
    return precision, recall


def cited_passage_texts(answer: Answer) -> dict[int, str]:
    """[n] -> the text of passage n: the numbered passage when present, else the snippet."""
    texts = {p.number: p.text for p in answer.passages if p.number}
    for c in answer.citations:
        texts.setdefault(c.number, c.snippet)
    return texts


def statements(text: str, split: SentenceSplitter) -> list[tuple[str, list[int]]]:
    """The answer's statements with the citations that back each.

    Lines are split first (the fallback puts one quote a line), then sentences with the core's
    splitter. A sentence without a citation of its own is backed by the citations of the next
    cited sentence on its line, the usual convention for a multi-sentence quote cited at its end.
    """
    out: list[tuple[str, list[int]]] = []
    for line in text.splitlines():
        pending: list[str] = []
        for sentence in split(line):
            pending.append(sentence)
            numbers = cited_numbers(sentence)
            if numbers:
                out += [(s, numbers) for s in pending]
                pending = []
        out += [(s, []) for s in pending]
    return out


def sentence_support(
    answer: Answer,
    supports: SupportCheck,
    split: SentenceSplitter,
    boilerplate: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """For each answer statement: its citations and whether one of them supports it (ALCE-style).

    A statement without a citation counts as unsupported, as in ALCE's citation recall. The
    assistant's own fixed lines (`boilerplate`, e.g. "The passages most relevant … say:") are not
    claims and are skipped. Citations are parsed as the core parses them.
    """
    texts = cited_passage_texts(answer)
    fixed = {" ".join(s.split()).casefold() for b in boilerplate for s, _ in statements(b, split)}
    rows: list[dict[str, Any]] = []
    for sentence, numbers in statements(answer.text, split):
        claim = strip_citations(sentence)
        if not any(ch.isalnum() for ch in claim) or " ".join(claim.split()).casefold() in fixed:
            continue  # a bare marker left over by the splitter, or the assistant's fixed text
        supported = any(n in texts and supports(claim, texts[n]) for n in numbers)
        rows.append({"sentence": claim, "cited": numbers, "supported": supported})
    return rows


def mean(values: Iterable[float | None]) -> float | None:
    """The mean of the values that exist; None when there are none."""
    xs = [float(v) for v in values if v is not None]
    return float(np.mean(xs)) if xs else None


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    arr = np.asarray(values, dtype=float)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95))}


def verdict(answerable: bool, abstained: bool, missing: Sequence[str]) -> str:
    """One word for how an answer fared; "correct" is what PaperQA's accuracy counts."""
    if not answerable:
        return "correct" if abstained else "answered_unanswerable"
    if abstained:
        return "wrong_abstention"
    return "missing_keywords" if missing else "correct"


def answer_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate figures of one answering configuration over its per-question rows.

    Each row has: answerable, abstained, verdict, keywords_ok (None without keywords),
    citation_precision/recall (None when not applicable), support (share of supported sentences,
    None without sentences), judge_support (same, by the LLM judge; None when not judged),
    timings, tokens_in, tokens_out.
    """
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["abstained"]]
    correct = [r for r in rows if r["verdict"] == "correct"]
    answered_correct = [r for r in answered if r["verdict"] == "correct"]
    stages = sorted({s for r in rows for s in r["timings"]})
    return {
        "n": len(rows),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "keyword_accuracy": mean(
            float(r["keywords_ok"]) for r in answerable if r["keywords_ok"] is not None
        ),
        "keyword_recall": mean(
            r["keyword_recall"] for r in answerable if r.get("keyword_recall") is not None
        ),
        "citation_precision": mean(r["citation_precision"] for r in answerable),
        "citation_recall": mean(r["citation_recall"] for r in answerable if not r["abstained"]),
        "citation_support": mean(r["support"] for r in answered),
        "citation_support_judge": mean(r.get("judge_support") for r in answered),
        "correct_abstention": mean(float(r["abstained"]) for r in unanswerable),
        "lead_accuracy": mean(
            float(bool(r.get("lead_ok")))
            for r in answerable
            if r.get("lead_ok") is not None or (r["abstained"] and r.get("keywords_ok") is not None)
        ),
        "wrong_lead": mean(
            float(r["wrong_lead"]) for r in answerable if r.get("wrong_lead") is not None
        ),
        "median_chars": float(np.median([r["chars"] for r in rows])) if rows else None,
        "streamed_violations": sum(1 for r in rows if r.get("streamed_ok") is False),
        "refused_by_subtype": {
            s: mean(float(r["abstained"]) for r in unanswerable if r.get("subtype") == s)
            for s in sorted({r.get("subtype") or "" for r in unanswerable})
        },
        "wrong_abstention": mean(float(r["abstained"]) for r in answerable),
        "accuracy": len(correct) / len(rows) if rows else None,
        "precision": len(answered_correct) / len(answered) if answered else None,
        "latency": {
            s: percentiles([r["timings"][s] for r in rows if s in r["timings"]]) for s in stages
        },
        "tokens_in": mean(r["tokens_in"] for r in rows),
        "tokens_out": mean(r["tokens_out"] for r in rows),
        "tokens_in_total": int(sum(r["tokens_in"] for r in rows)),
        "tokens_out_total": int(sum(r["tokens_out"] for r in rows)),
    }


def retrieval_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean retrieval figures over questions with gold titles, and retrieval latency."""
    scored = [r for r in rows if r.get("scores")]
    out: dict[str, Any] = {"n": len(scored)}
    for name in ("hit@1", "recall@5", "mrr@10"):
        out[name] = mean(r["scores"][name] for r in scored)
    out["latency"] = percentiles([r["seconds"] for r in rows])
    return out


def calibration(
    signals: Sequence[tuple[float | None, bool]], thresholds: Sequence[float] | None = None
) -> dict[str, Any]:
    """How a rule "abstain when the signal is below t" would fare, for a range of t.

    `signals` are (top passage score, answerable) per question; a missing score counts as -inf
    (nothing retrieved: always abstain). The suggested threshold maximises the correct-abstention
    rate minus the wrong-abstention rate (Youden's J); on a plateau of equal J, its middle, the
    threshold farthest from the questions on either side.
    """
    if thresholds is None:
        thresholds = [round(t, 2) for t in np.arange(0.0, 1.0001, 0.05)]
    pos = [s if s is not None else float("-inf") for s, ans in signals if not ans]
    neg = [s if s is not None else float("-inf") for s, ans in signals if ans]
    table: list[dict[str, Any]] = []
    for t in thresholds:
        correct = sum(s < t for s in pos) / len(pos) if pos else None
        wrong = sum(s < t for s in neg) / len(neg) if neg else None
        j = (correct or 0.0) - (wrong or 0.0)
        table.append(
            {"threshold": t, "correct_abstention": correct, "wrong_abstention": wrong, "j": j}
        )
    best = None
    if table:
        top = max(row["j"] for row in table)
        plateau = [row for row in table if row["j"] == top]
        best = plateau[len(plateau) // 2]
    return {
        "n_answerable": len(neg),
        "n_unanswerable": len(pos),
        "table": table,
        "suggested": best,
    }
