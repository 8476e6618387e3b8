"""How the off-topic check's `retrieval.on_topic_cosine` was chosen.

    python eval/on_topic_cosine.py

For every question of the tune split and of eval/probe*.jsonl (never test; follow-ups left out,
they are checked with their conversation), the evidence the off-topic check sees (the closest
passage's cosine, the IDF-weighted share of the question's words in one passage) and whether the
check refuses it with the cosine rule off. Then, for each candidate cosine, how many answerable
questions refused as off-topic it would let through, and how many unanswerable ones.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Assistant  # noqa: E402
from rag.answer.answering import evidence_for  # noqa: E402
from rag.answer.synthesis import topic_of  # noqa: E402

CANDIDATES = (0.50, 0.52, 0.55, 0.58, 0.60)


def main() -> None:
    assistant = Assistant()
    answerer = assistant.answerer
    answerer.settings.retrieval.on_topic_cosine = 2.0  # the rule off: the score alone decides
    files = [ROOT / "eval" / "tune.jsonl", *sorted((ROOT / "eval").glob("probe*.jsonl"))]
    rows = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item.get("history"):
                continue
            question = item["question"]
            q = answerer.analyse(question)
            passages = answerer.passages(question, answerer.depth(q, None), None, q)
            text = (topic_of(question) or question) if q.shape == "list" else question
            evidence = evidence_for(text, passages, answerer.retriever)
            refused = answerer.off_topic(question, passages, q)
            rows.append((item["type"] != "unanswerable", refused, evidence.vector))
    answerable = [r for r in rows if r[0]]
    print(
        f"{len(rows)} questions; refused as off-topic: "
        f"{sum(r[1] for r in answerable)} answerable, "
        f"{sum(r[1] for r in rows if not r[0])} unanswerable"
    )
    for cosine in CANDIDATES:
        through = [r for r in rows if r[1] and r[2] >= cosine]
        print(
            f"cosine {cosine:.2f}: answerable let through {sum(r[0] for r in through)}, "
            f"unanswerable let through {sum(not r[0] for r in through)}"
        )


if __name__ == "__main__":
    main()
