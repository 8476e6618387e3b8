"""Fits MECHANISM_WEIGHTS (rag/answer/synthesis.py): how the sentences that say how a paper
works are chosen, for how/why answers and comparison sides.

    python eval/fit_mechanism.py [--out eval/mechanism-fit.json]

It answers every question of the `tune` split and of eval/probe*.jsonl (never `test`), and
records each choice of mechanism sentences: per candidate sentence its features
(`Scored.mechanism_features`) and whether it holds one of the question's answer keywords (one
the question and the paper's title do not already hold). A logistic regression over the features
is fitted on those labels; the report gives, with 5-fold cross-validation grouped by question, how
often the chosen sentences hold a keyword sentence, under the weights in the code and under the
fitted ones, and the fitted weights. Copy them into MECHANISM_WEIGHTS only when they win on the
folds, then judge the change on `test` (`rag eval --split test`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

EVAL = Path(__file__).resolve().parent
FOLDS = 5


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


def record(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answers each question and keeps each mechanism choice made while answering it."""
    from rag.service.assistant import Assistant
    from rag.answer import synthesis

    calls: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    original = synthesis.Scored.mechanism

    def recorded(self: Any, n: int, about: Any = None, reason: bool = False) -> list[str]:
        keywords = [
            k
            for k in current["keywords"]
            if _comparable(k) not in _comparable(current["question"] + " " + self.passage.title)
        ]
        if self.sentences and keywords:
            features = self.mechanism_features(reason)
            calls.append(
                {
                    "id": current["id"],
                    "n": n,
                    "candidates": self.candidates(about),
                    "features": {k: [float(x) for x in v] for k, v in features.items()},
                    "labels": [
                        any(_comparable(k) in _comparable(s) for k in keywords)
                        for s in self.sentences
                    ],
                }
            )
        return original(self, n, about, reason)

    synthesis.Scored.mechanism = recorded  # type: ignore[method-assign]
    assistant = Assistant()
    try:
        for item in questions:
            current.update(
                id=str(item["id"]), question=item["question"], keywords=item["answer_keywords"]
            )
            assistant.ask(item["question"])
    finally:
        synthesis.Scored.mechanism = original  # type: ignore[method-assign]
    return calls


def _matrix(call: dict[str, Any], names: list[str]) -> np.ndarray:
    return np.array([call["features"][f] for f in names]).T


def _hit(call: dict[str, Any], score: np.ndarray) -> bool:
    top = sorted(call["candidates"], key=lambda i: -score[i])[: call["n"]]
    return any(call["labels"][i] for i in top)


def fit(calls: list[dict[str, Any]], current: dict[str, float]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    names = list(current)
    # a choice can only be right or wrong where a candidate holds a keyword and not all do
    usable = [
        c
        for c in calls
        if len(c["candidates"]) > c["n"] and any(c["labels"][i] for i in c["candidates"])
    ]

    def model(train: list[dict[str, Any]]) -> Any:
        x = np.vstack([_matrix(c, names)[c["candidates"]] for c in train])
        y = np.concatenate([[c["labels"][i] for i in c["candidates"]] for c in train])
        return LogisticRegression(max_iter=3000).fit(x, y)

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
    scale = abs(whole.coef_[0][names.index("cosine")]) or 1.0
    return {
        "choices": len(calls),
        "decidable_choices": len(usable),
        "questions": len(ids),
        "hit_weights_in_code": round(float(np.mean(in_code)), 3),
        "hit_fitted_cross_validated": round(float(np.mean(held_out)), 3),
        "weights_in_code": current,
        # scaled so that "cosine" keeps the weight it has in the code (the ranking is the same)
        "fitted_weights": {
            f: round(float(w) / scale * current["cosine"], 3)
            for f, w in zip(names, whole.coef_[0], strict=True)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=EVAL / "mechanism-fit.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["RAG_LLM__RESTATE"] = "false"  # the choice of sentences, not the LLM's rewording
    os.environ["RAG_LLM__WRITE"] = "off"
    from rag.answer.synthesis import MECHANISM_WEIGHTS

    result = fit(record(_questions()), dict(MECHANISM_WEIGHTS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
