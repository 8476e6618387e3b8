"""Assigns each new question to the `tune` or the `test` split, once, at random with a fixed seed.

    python eval/split.py NEW.jsonl [NEW2.jsonl ...]   # appends each question to tune/test.jsonl
    python eval/split.py --check                      # every shipped question sits in its split

A question's split is a function of its id and the seed alone (not of file order), so adding
questions later never moves an earlier one. eval/dev.jsonl predates the split and answering was
tuned on it: it belongs to `tune` whole. TEST_SHARE is set so that test holds at least 40% of all
questions (dev included). Test questions are held out: read the test report, never the questions,
when changing answering.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

SEED = 20261203
TEST_SHARE = 0.7  # of new questions; with dev.jsonl in tune, test is ~43% of the whole set
EVAL = Path(__file__).resolve().parent


def split_of(qid: str) -> str:
    return "test" if random.Random(f"{SEED}:{qid}").random() < TEST_SHARE else "tune"


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def add(paths: list[Path]) -> None:
    known = {r["id"] for name in ("dev", "tune", "test") for r in _rows(EVAL / f"{name}.jsonl")}
    out: dict[str, list[str]] = {"tune": [], "test": []}
    for path in paths:
        for row in _rows(path):
            if row["id"] in known:
                sys.exit(f"{path}: id {row['id']} is already in a split")
            known.add(row["id"])
            out[split_of(row["id"])].append(json.dumps(row, ensure_ascii=False))
    for name, lines in out.items():
        if lines:
            with (EVAL / f"{name}.jsonl").open("a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        print(f"{name}: +{len(lines)}")


def check() -> int:
    bad = [
        (name, r["id"])
        for name in ("tune", "test")
        for r in _rows(EVAL / f"{name}.jsonl")
        if split_of(r["id"]) != name
    ]
    for name, qid in bad:
        print(f"{qid} is in {name}.jsonl but the seed puts it in the other split")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    add([Path(p) for p in sys.argv[1:]])
