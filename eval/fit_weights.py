"""Fits the answering's weight tables on the dev questions: which sentences an answer is made of.

    python eval/fit_weights.py mechanism [--out eval/fit-mechanism.json]
    python eval/fit_weights.py sentence  [--out eval/fit-sentence.json]
    python eval/fit_weights.py list      [--out eval/fit-list.json]

- `mechanism`: MECHANISM_WEIGHTS (rag/answer/synthesis.py), the sentences that say how a paper
  works, for how/why answers and comparison sides (`Scored.mechanism`, the n best of them).
- `sentence`: SENTENCE_WEIGHTS (rag/answer/compose.py), the ranking of a passage's sentences for
  a single-fact question (`Composer.sentences`, its first sentence).
- `list`: LIST_WEIGHTS and LIST_BIAS (rag/answer/synthesis.py), whether a retrieved paper answers
  a list question (`relevant_papers`: those whose probability reaches LIST_JOIN). Its label is
  the paper's being one of the question's gold papers; its report gives paper precision and
  recall and how often every gold paper is named, in code and fitted, at LIST_JOIN.

It answers every question of the `tune` split and of eval/probe*.jsonl (never `test`), and
records each such choice made while answering: per candidate sentence its named features and
whether it holds one of the question's answer keywords (one the question and the paper's title
do not already hold). A logistic regression over the features is fitted on those labels. The
report gives, with 5-fold cross-validation grouped by question, how often the chosen sentences
hold a keyword sentence under the weights in the code and under the fitted ones, and the fitted
weights. Copy them into the table only when they win on the folds, then judge the change on
`test` (`rag eval --split test`): the folds are dev questions, not held-out ones.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

EVAL = Path(__file__).resolve().parent
FOLDS = 5
Call = dict[str, Any]


def _questions() -> list[dict[str, Any]]:
    rows = []
    for path in [EVAL / "tune.jsonl", *sorted(EVAL.glob("probe*.jsonl"))]:
        for line in path.read_text().splitlines():
            item = json.loads(line)
            if item.get("answer_keywords") and not item.get("history"):
                rows.append(item)
    return rows


def _comparable(text: str) -> str:
    from rag.evaluation.metrics import _comparable as comparable

    return comparable(text)


def _labels(sentences: list[str], title: str, current: dict[str, Any]) -> list[bool]:
    keywords = [
        k
        for k in current["keywords"]
        if _comparable(k) not in _comparable(current["question"] + " " + title)
    ]
    return [any(_comparable(k) in _comparable(s) for k in keywords) for s in sentences]


def _mechanism_hook(calls: list[Call], current: dict[str, Any]) -> Callable[[], None]:
    """Records `Scored.mechanism`; returns the function that puts the original back."""
    from rag.answer import synthesis

    original = synthesis.Scored.mechanism

    def recorded(self: Any, n: int, about: Any = None, reason: bool = False) -> list[str]:
        if self.sentences:
            features = self.mechanism_features(reason)
            calls.append(
                {
                    "id": current["id"],
                    "n": n,
                    "candidates": self.candidates(about, reason),
                    "features": {k: [float(x) for x in v] for k, v in features.items()},
                    "labels": _labels(self.sentences, self.passage.title, current),
                }
            )
        return original(self, n, about, reason)

    synthesis.Scored.mechanism = recorded  # type: ignore[method-assign]

    def restore() -> None:
        synthesis.Scored.mechanism = original  # type: ignore[method-assign]

    return restore


def _sentence_hook(calls: list[Call], current: dict[str, Any]) -> Callable[[], None]:
    """Records `Composer.sentences`; returns the function that puts the original back."""
    from rag.answer import compose

    original = compose.Composer.sentences

    def recorded(self: Any, q: Any, p: Any) -> list[Any]:
        ranked = original(self, q, p)
        if ranked and all(x.features for x in ranked):
            names = list(ranked[0].features)
            calls.append(
                {
                    "id": current["id"],
                    "n": 1,
                    "candidates": list(range(len(ranked))),
                    "features": {k: [x.features[k] for x in ranked] for k in names},
                    "labels": _labels([x.sentence for x in ranked], p.title, current),
                }
            )
        return ranked

    compose.Composer.sentences = recorded  # type: ignore[method-assign]

    def restore() -> None:
        compose.Composer.sentences = original  # type: ignore[method-assign]

    return restore


def _list_hook(calls: list[Call], current: dict[str, Any]) -> Callable[[], None]:
    """Records each paper `relevant_papers` weighs (through `list_features`), labelled gold or
    not; returns the function that puts the original back."""
    from rag.answer import synthesis

    original = synthesis.list_features

    def recorded(s: Any, rank: int, best_score: float) -> dict[str, float]:
        features = original(s, rank, best_score)
        title = s.passage.title.strip().lower()
        calls.append(
            {
                "id": current["id"],
                "gold": title in {g.strip().lower() for g in current["gold_titles"]},
                "golds": len(current["gold_titles"]),
                "features": features,
            }
        )
        return features

    synthesis.list_features = recorded  # type: ignore[assignment]

    def restore() -> None:
        synthesis.list_features = original  # type: ignore[assignment]

    return restore


HOOKS = {"mechanism": _mechanism_hook, "sentence": _sentence_hook, "list": _list_hook}


def record(table: str, questions: list[dict[str, Any]]) -> list[Call]:
    """Answers each question and keeps each choice of `table`'s kind made while answering it."""
    from rag.service.assistant import Assistant

    calls: list[Call] = []
    current: dict[str, Any] = {}
    restore = HOOKS[table](calls, current)
    assistant = Assistant()
    try:
        for n, item in enumerate(questions):
            current.update(
                id=f"{n}:{item['id']}",  # probe sets reuse ids
                question=item["question"],
                keywords=item["answer_keywords"],
                gold_titles=item.get("gold_titles") or [],
            )
            assistant.ask(item["question"])
    finally:
        restore()
    return calls


def _matrix(call: Call, names: list[str]) -> np.ndarray:
    return np.array([call["features"][f] for f in names]).T


def _hit(call: Call, score: np.ndarray) -> bool:
    top = sorted(call["candidates"], key=lambda i: -score[i])[: call["n"]]
    return any(call["labels"][i] for i in top)


def fit(calls: list[Call], current: dict[str, float]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    names = list(current)
    # a choice can only be right or wrong where a candidate holds a keyword and not all do
    usable = [
        c
        for c in calls
        if len(c["candidates"]) > c["n"]
        and any(c["labels"][i] for i in c["candidates"])
        and not all(c["labels"][i] for i in c["candidates"])
    ]

    def model(train: list[Call]) -> Any:
        x = np.vstack([_matrix(c, names)[c["candidates"]] for c in train])
        y = np.concatenate([[c["labels"][i] for i in c["candidates"]] for c in train])
        return LogisticRegression(max_iter=5000).fit(x, y)

    weights = np.array([current[f] for f in names])
    in_code = [_hit(c, _matrix(c, names) @ weights) for c in usable]
    ids = sorted({c["id"] for c in usable})
    random.Random(0).shuffle(ids)
    fold = {qid: k % FOLDS for k, qid in enumerate(ids)}
    held_out: list[bool] = []
    for k in range(FOLDS):
        m = model([c for c in usable if fold[c["id"]] != k])
        held_out += [
            _hit(c, m.decision_function(_matrix(c, names))) for c in usable if fold[c["id"]] == k
        ]
    whole = model(usable)
    # scaled so that the table's first feature keeps its weight in the code (same ranking)
    first = names[0]
    scale = abs(whole.coef_[0][0]) or 1.0
    return {
        "choices": len(calls),
        "decidable_choices": len(usable),
        "questions": len(ids),
        "hit_weights_in_code": round(float(np.mean(in_code)), 3),
        "hit_fitted_cross_validated": round(float(np.mean(held_out)), 3),
        "weights_in_code": current,
        "fitted_weights": {
            f: round(float(w) / scale * current[first], 3)
            for f, w in zip(names, whole.coef_[0], strict=True)
        },
    }


def _selected(calls: list[Call], chance: np.ndarray) -> dict[str, float]:
    """Paper precision, recall and the share of questions naming every gold paper, when each
    question keeps its papers at LIST_JOIN or above (at most LIST_MAX, at least its likeliest)."""
    from rag.answer.synthesis import LIST_JOIN, LIST_MAX

    by_question: dict[str, list[int]] = {}
    for i, c in enumerate(calls):
        by_question.setdefault(c["id"], []).append(i)
    hit = shown = gold = every = 0
    for rows in by_question.values():
        order = sorted(rows, key=lambda i: -chance[i])
        kept = ([i for i in order if chance[i] >= LIST_JOIN] or order[:1])[:LIST_MAX]
        found = sum(calls[i]["gold"] for i in kept)
        hit, shown, gold = hit + found, shown + len(kept), gold + calls[rows[0]]["golds"]
        every += found == calls[rows[0]]["golds"]
    return {
        "precision": round(hit / max(shown, 1), 3),
        "recall": round(hit / max(gold, 1), 3),
        "every_gold_named": round(every / max(len(by_question), 1), 3),
        "papers_per_question": round(shown / max(len(by_question), 1), 2),
    }


def fit_list(calls: list[Call]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    from rag.answer.synthesis import LIST_BIAS, LIST_WEIGHTS, join_probability

    names = list(LIST_WEIGHTS)
    x = np.array([[c["features"][f] for f in names] for c in calls])
    y = np.array([c["gold"] for c in calls])
    in_code = np.array([join_probability(c["features"]) for c in calls])
    ids = sorted({c["id"] for c in calls})
    random.Random(0).shuffle(ids)
    fold = np.array([{qid: k % FOLDS for k, qid in enumerate(ids)}[c["id"]] for c in calls])
    held_out = np.zeros(len(calls))
    for k in range(FOLDS):
        m = LogisticRegression(max_iter=5000).fit(x[fold != k], y[fold != k])
        held_out[fold == k] = m.predict_proba(x[fold == k])[:, 1]
    whole = LogisticRegression(max_iter=5000).fit(x, y)
    return {
        "papers": len(calls),
        "questions": len(ids),
        "weights_in_code": {**LIST_WEIGHTS, "bias": LIST_BIAS},
        "selected_weights_in_code": _selected(calls, in_code),
        "selected_fitted_cross_validated": _selected(calls, held_out),
        "fitted_weights": {
            **{f: round(float(w), 3) for f, w in zip(names, whole.coef_[0], strict=True)},
            "bias": round(float(whole.intercept_[0]), 3),
        },
    }


def _table(table: str) -> dict[str, float]:
    if table == "mechanism":
        from rag.answer.synthesis import MECHANISM_WEIGHTS

        return dict(MECHANISM_WEIGHTS)
    from rag.answer.compose import SENTENCE_WEIGHTS

    return dict(SENTENCE_WEIGHTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", choices=sorted(HOOKS))
    parser.add_argument("--out", type=Path, help="default: eval/fit-TABLE.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["RAG_LLM__RESTATE"] = "false"  # the choice of sentences, not the LLM's rewording
    os.environ["RAG_LLM__WRITE"] = "off"
    if args.table == "list":
        lists = [q for q in _questions() if q.get("type") in ("list", "multi")]
        result = fit_list(record("list", lists))
    else:
        result = fit(record(args.table, _questions()), _table(args.table))
    out = args.out or EVAL / f"fit-{args.table}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
