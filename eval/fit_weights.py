"""Fits the answering's weight tables on the dev questions: which sentences an answer is made of.

    python eval/fit_weights.py mechanism [--out eval/fit-mechanism.json]
    python eval/fit_weights.py sentence  [--out eval/fit-sentence.json]

- `mechanism`: MECHANISM_WEIGHTS (rag/answer/synthesis.py), the sentences that say how a paper
  works, for how/why answers and comparison sides (`Scored.mechanism`, the n best of them).
- `sentence`: SENTENCE_WEIGHTS (rag/answer/compose.py), the ranking of a passage's sentences for
  a single-fact question (`Composer.sentences`, its first sentence).

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


HOOKS = {"mechanism": _mechanism_hook, "sentence": _sentence_hook}


def record(table: str, questions: list[dict[str, Any]]) -> list[Call]:
    """Answers each question and keeps each choice of `table`'s kind made while answering it."""
    from rag.service.assistant import Assistant

    calls: list[Call] = []
    current: dict[str, Any] = {}
    restore = HOOKS[table](calls, current)
    assistant = Assistant()
    try:
        for item in questions:
            current.update(
                id=str(item["id"]), question=item["question"], keywords=item["answer_keywords"]
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
    result = fit(record(args.table, _questions()), _table(args.table))
    out = args.out or EVAL / f"fit-{args.table}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
