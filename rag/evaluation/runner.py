"""Runs every question through the baselines and the assistant, one per-question row each.

Retrieval: BM25 only, vector only and the hybrid (`Assistant.retrieve(mode=...)`).
Answers: the LLM answer (`Assistant.ask`) and the extractive fallback
(`Assistant.answerer.extractive`) over the same hybrid passages.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from rag.core import logs
from rag.core.types import Answer, AnswerEvent, Passage, TokenEvent
from rag.evaluation.dataset import EvalItem
from rag.evaluation.metrics import (
    SentenceSplitter,
    SupportCheck,
    citation_precision_recall,
    doc_ranking,
    lead_cited_titles,
    missing_keywords,
    norm_title,
    retrieval_scores,
    sentence_support,
    verdict,
)

RETRIEVAL_MODES = ("bm25", "vector", "hybrid")
ANSWER_CONFIGS = ("llm", "extractive")
RANK_DEPTH = 10  # MRR@10 needs ten documents


class Evaluator:
    """Evaluates one assistant on a question set; `run` returns the per-question rows."""

    def __init__(
        self,
        assistant: Any,
        *,
        k: int = 5,
        retrieval_only: bool = False,
        supports: SupportCheck | None = None,
        split: SentenceSplitter | None = None,
        judge: SupportCheck | None = None,
        quick: bool = False,
    ) -> None:
        """`quick`: the assistant's own answer over hybrid retrieval only (no BM25/vector rows,
        no extractive baseline), for a fast read of answer quality."""
        self.assistant = assistant
        self.modes: tuple[str, ...] = ("hybrid",) if quick else RETRIEVAL_MODES
        self.k = k
        self.retrieval_only = retrieval_only
        self.supports = supports
        self.split = split
        self.judge = judge
        self.notes: list[str] = []
        self.configs: tuple[str, ...] = () if retrieval_only else self._answer_configs()
        if quick and self.configs:
            self.configs = ("llm",)
        self.boilerplate = () if retrieval_only else self._boilerplate()

    def _boilerplate(self) -> tuple[str, ...]:
        """The assistant's fixed lines (lead-ins of quotes, abstention), which are not claims."""
        prompts = getattr(self.assistant.answerer, "prompts", None)
        if prompts is None:
            return ()
        return tuple(prompts.get(name) for name in ("abstain",))

    def _answer_configs(self) -> tuple[str, ...]:
        if hasattr(self.assistant.answerer, "extractive"):
            return ANSWER_CONFIGS
        self.notes.append("the answerer has no extractive() method: extractive baseline skipped")
        return ("llm",)

    def run(self, items: Sequence[EvalItem], progress: bool = True) -> list[dict[str, Any]]:
        rows = []
        for item in tqdm(items, desc="eval", unit="q", disable=not logs.bars_wanted(progress)):
            rows.append(self.evaluate(item))
        return rows

    def evaluate(self, item: EvalItem) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": item.id,
            "type": item.type,
            "subtype": item.subtype,
            "question": item.question,
            "gold_titles": item.gold_titles,
            "answer_keywords": item.answer_keywords,
            "answerable": item.answerable,
            "split": item.split,
            "retrieval": {},
            "answers": {},
        }
        history = self._conversation(item)
        # a follow-up is retrieved (for the retrieval rows and the extractive baseline) as the
        # assistant rewrites it; the llm row asks it inside its conversation
        standalone = (
            self.assistant.answerer.standalone(item.question, history)
            if history and hasattr(self.assistant, "answerer")
            else item.question
        )
        hybrid: list[Passage] = []
        for mode in self.modes:
            row["retrieval"][mode], passages = self._retrieve(item, mode, standalone)
            if mode == "hybrid":
                hybrid = passages
        for config in self.configs:
            streamed: str | None = None
            if config == "llm":
                answer, streamed = self._ask_streamed(item.question, history)
            else:
                seconds = row["retrieval"]["hybrid"]["seconds"]
                answer = self._extractive(standalone, hybrid[: self.k], seconds)
            row["answers"][config] = self._score_answer(item, answer, streamed)
        return row

    def _conversation(self, item: EvalItem) -> list[tuple[str, str]]:
        """A follow-up's conversation so far: its earlier questions asked, with their answers."""
        turns: list[tuple[str, str]] = []
        for earlier in item.history:
            answer = self.assistant.ask(earlier, history=list(turns), k=self.k)
            turns.append((earlier, answer.text))
        return turns

    def _ask_streamed(
        self, question: str, history: list[tuple[str, str]] | None = None
    ) -> tuple[Answer, str]:
        """The answer through the stream a reader sees, and the text that stream showed."""
        shown: list[str] = []
        answer: Answer | None = None
        for event in self.assistant.stream(question, history=history or None, k=self.k):
            if isinstance(event, TokenEvent):
                shown.append(event.text)
            elif isinstance(event, AnswerEvent):
                answer = event.answer
        assert answer is not None
        return answer, "".join(shown)

    def _retrieve(
        self, item: EvalItem, mode: str, question: str | None = None
    ) -> tuple[dict[str, Any], list[Passage]]:
        question = question or item.question
        t0 = time.perf_counter()
        passages = self.assistant.retrieve(question, k=max(self.k, RANK_DEPTH), mode=mode)
        seconds = time.perf_counter() - t0
        ranked = doc_ranking(passages)
        top_k = passages[: self.k]
        vector_scores = [p.vector_score for p in top_k if p.vector_score is not None]
        row = {
            "ranked_titles": ranked[:RANK_DEPTH],
            "scores": retrieval_scores(ranked, item.gold_titles) if item.gold_titles else None,
            "seconds": seconds,
            "top_score": passages[0].score if passages else None,
            "top_vector_score": passages[0].vector_score if passages else None,
            "max_vector_score": max(vector_scores) if vector_scores else None,
            "evidence_score": self._evidence(question, top_k),
        }
        return row, passages

    def _evidence(self, question: str, passages: list[Passage]) -> float | None:
        """The core's abstention signal on these passages (what its threshold is compared to),
        with the same IDF weights the core uses."""
        try:
            from rag.answer.answering import evidence_for
        except ImportError:
            return None
        retriever = getattr(self.assistant, "retriever", None)
        if retriever is None or not passages:
            return None if retriever is None else 0.0
        return evidence_for(question, passages, retriever).score()

    def _extractive(self, question: str, passages: list[Passage], retrieve_s: float) -> Answer:
        """The extractive baseline through the same abstention rule as the LLM pipeline."""
        answerer = self.assistant.answerer
        passages = [p.model_copy(update={"number": i}) for i, p in enumerate(passages, 1)]
        t0 = time.perf_counter()
        timings = {"retrieve": retrieve_s}
        if answerer.off_topic(question, passages):
            base = Answer(question=question, text="", passages=passages)
            answer: Answer = answerer.abstention(base, timings, answerer.analyse(question))
        else:
            answer = answerer.extractive(question, passages)
        answer.timings = {**timings, "generate": time.perf_counter() - t0}
        return answer

    def _score_answer(
        self, item: EvalItem, answer: Answer, streamed: str | None = None
    ) -> dict[str, Any]:
        missing = missing_keywords(answer.text, item.answer_keywords)
        lead = answer.text.splitlines()[0] if answer.text else ""
        lead_titles = lead_cited_titles(lead, answer)
        cited = [c.title for c in answer.citations]
        precision, recall = (
            citation_precision_recall(cited, item.gold_titles) if item.gold_titles else (None, None)
        )
        sentences: list[dict[str, Any]] = []
        support = judge_support = None
        if not answer.abstained and self.supports and self.split:
            sentences = sentence_support(answer, self.supports, self.split, self.boilerplate)
            if sentences:
                support = sum(s["supported"] for s in sentences) / len(sentences)
            if self.judge and sentences:
                judged = sentence_support(answer, self.judge, self.split, self.boilerplate)
                for s, j in zip(sentences, judged, strict=True):
                    s["judge_supported"] = j["supported"]
                judge_support = sum(j["supported"] for j in judged) / len(judged)
        return {
            "text": answer.text,
            "abstained": answer.abstained,
            "subtype": item.subtype,
            "fallback": answer.fallback,
            "answerable": item.answerable,
            "citations": [{"number": c.number, "title": c.title} for c in answer.citations],
            "removed_citations": answer.removed_citations,
            "verdict": verdict(item.answerable, answer.abstained, missing),
            "missing_keywords": missing,
            "lead": lead,
            "lead_ok": (
                not missing_keywords(lead, item.answer_keywords)
                if item.answer_keywords and not answer.abstained
                else None
            ),
            "wrong_lead": (
                bool(lead_titles)
                and not set(map(norm_title, lead_titles)) <= set(map(norm_title, item.gold_titles))
                if item.answerable and not answer.abstained
                else None
            ),
            "chars": len(answer.text),
            # every character a reader saw while it streamed is in the final answer
            "streamed_ok": None if streamed is None else answer.text.startswith(streamed),
            "keywords_ok": (not missing) if item.answer_keywords else None,
            # partial credit: a list naming 3 of 4 papers, a comparison giving 3 of 4 facts
            "keyword_recall": (
                1 - len(missing) / len(item.answer_keywords) if item.answer_keywords else None
            ),
            "citation_precision": precision,
            "citation_recall": recall,
            "support": support,
            "judge_support": judge_support,
            "sentences": sentences,
            "timings": dict(answer.timings),
            "tokens_in": answer.tokens_in,
            "tokens_out": answer.tokens_out,
        }
