"""The eval question sets in eval/*.jsonl are well-formed and grounded in the shipped corpus.

Fast, no models: parses the corpus listings and checks every question set against them, so a typo
in a gold title or a keyword that no gold title or abstract contains fails here rather than
skewing metrics.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import PROJECT_DIR
from rag.ingest.listing import Paper, looks_like_listing, merge_duplicates, parse_listing

EVAL_DIR = PROJECT_DIR / "eval"
CORPUS_DIR = PROJECT_DIR / "corpus"
DEV_SET = EVAL_DIR / "dev.jsonl"

TYPES = {"factoid", "identify", "multi", "list", "comparison", "how", "followup", "unanswerable"}
REQUIRED = {"id": str, "type": str, "question": str, "gold_titles": list, "answer_keywords": list}
DATASETS = sorted(EVAL_DIR.glob("*.jsonl"))


def _load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                pytest.fail(f"{path.name}:{n}: not valid JSON ({exc})")
    return rows


@pytest.fixture(scope="module")
def corpus() -> dict[str, Paper]:
    papers: list[Paper] = []
    for path in sorted(CORPUS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if looks_like_listing(text):
            papers += parse_listing(text, path.name)
    by_title = {p.title: p for p in merge_duplicates(papers)}
    assert len(by_title) > 600, "the shipped corpus should parse into ~685 papers"
    return by_title


def test_dev_set_exists() -> None:
    assert DEV_SET in DATASETS


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_schema(path: Path) -> None:
    rows = _load(path)
    assert rows, f"{path.name} is empty"
    for row in rows:
        where = f"{path.name} {row.get('id', '?')}"
        for field, kind in REQUIRED.items():
            assert isinstance(row.get(field), kind), f"{where}: {field} must be a {kind.__name__}"
        assert row["type"] in TYPES, f"{where}: unknown type {row['type']!r}"
        assert row["question"].strip(), f"{where}: empty question"
        assert all(isinstance(t, str) and t for t in row["gold_titles"]), where
        assert all(isinstance(k, str) and k.strip() for k in row["answer_keywords"]), where
        assert isinstance(row.get("answer", ""), str), f"{where}: answer must be a string"
    ids = Counter(row["id"] for row in rows)
    assert not [i for i, c in ids.items() if c > 1], f"{path.name}: duplicate ids"


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_gold_titles_exist(path: Path, corpus: dict[str, Paper]) -> None:
    missing = [
        (row["id"], title)
        for row in _load(path)
        for title in row["gold_titles"]
        if title not in corpus
    ]
    assert not missing, f"{path.name}: gold titles not in the corpus: {missing}"


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_keywords_in_gold_abstracts(path: Path, corpus: dict[str, Paper]) -> None:
    bad = []
    for row in _load(path):
        # a list line names a paper by its title when it coins no short name ("Tutel: …")
        abstracts = [
            f"{t}\n{corpus[t].abstract}".lower() for t in row["gold_titles"] if t in corpus
        ]
        for kw in row["answer_keywords"]:
            if not any(kw.lower() in a for a in abstracts):
                bad.append((row["id"], kw))
    assert not bad, f"{path.name}: keywords found in no gold abstract: {bad}"


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_unanswerable_have_no_gold(path: Path) -> None:
    bad = [
        row["id"]
        for row in _load(path)
        if row["type"] == "unanswerable" and (row["gold_titles"] or row["answer_keywords"])
    ]
    assert not bad, f"{path.name}: unanswerable items with gold titles or keywords: {bad}"


def test_dev_set_counts() -> None:
    rows = _load(DEV_SET)
    counts = Counter(row["type"] for row in rows)
    assert len(rows) >= 100
    assert counts["unanswerable"] >= 60
    assert counts["factoid"] >= 0.4 * len(rows)
    assert counts["identify"] >= 0.15 * len(rows)
    assert counts["multi"] >= 8


UNANSWERABLE_SUBTYPES = {"off_topic", "near_miss", "near_domain", "in_passing"}
NEAR_DOMAIN_SUBTYPES = {"near_miss", "near_domain", "in_passing"}


def test_dev_set_unanswerable_subtypes() -> None:
    """Every unanswerable item says what kind it is; most are hard, near-domain ones."""
    unanswerable = [row for row in _load(DEV_SET) if row["type"] == "unanswerable"]
    bad = [row["id"] for row in unanswerable if row.get("subtype") not in UNANSWERABLE_SUBTYPES]
    assert not bad, f"unanswerable items without a known subtype: {bad}"
    near = [row for row in unanswerable if row["subtype"] in NEAR_DOMAIN_SUBTYPES]
    assert len(near) >= 40, f"only {len(near)} near-domain unanswerable items"


def test_dev_set_answerable_items_are_complete(corpus: dict[str, Paper]) -> None:
    """Stricter than the format: every hand-written answerable item has gold and keywords."""
    for row in _load(DEV_SET):
        if row["type"] == "unanswerable":
            continue
        assert row["answer_keywords"], f"{row['id']}: no keywords"
        n = len(row["gold_titles"])
        if row["type"] == "multi":
            assert 2 <= n <= 4, f"{row['id']}: a multi question needs 2-4 gold papers"
            # each gold paper must contribute: some keyword is found in its own abstract
            for title in row["gold_titles"]:
                text = corpus[title].abstract.lower()
                assert any(k.lower() in text for k in row["answer_keywords"]), (row["id"], title)
        else:
            assert n == 1, f"{row['id']}: a {row['type']} question has one gold paper"


def test_dev_set_spans_the_collection(corpus: dict[str, Paper]) -> None:
    rows = _load(DEV_SET)
    gold = {t for row in rows for t in row["gold_titles"]}
    sources = {corpus[t].sources[0] for t in gold}
    assert len(gold) >= 80, "questions should cover many different papers"
    assert sources == {p.name for p in CORPUS_DIR.glob("*.txt")}, "every listing file is used"


def test_splits_are_fixed_by_the_seed_and_large_enough() -> None:
    """Every question of tune/test sits where eval/split.py's seed puts it (no question was
    moved by hand), and the held-out test split is at least 40% of all questions."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(EVAL_DIR / "split.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    tune = _load(EVAL_DIR / "tune.jsonl") + _load(DEV_SET)
    test = _load(EVAL_DIR / "test.jsonl")
    assert len(tune) + len(test) >= 500
    assert len(test) >= 0.4 * (len(tune) + len(test))
    assert not {r["id"] for r in tune} & {r["id"] for r in test}
    for shape in ("list", "comparison", "how", "followup", "unanswerable"):
        assert sum(r["type"] == shape for r in test) >= 20, shape


def test_new_question_shapes_are_well_formed(corpus: dict[str, Paper]) -> None:
    """List questions name 3-6 papers, each with a keyword of its own; comparisons two;
    follow-ups carry the conversation they follow."""
    for row in _load(EVAL_DIR / "tune.jsonl") + _load(EVAL_DIR / "test.jsonl"):
        n = len(row["gold_titles"])
        if row["type"] == "list":
            assert 3 <= n <= 6, row["id"]
        elif row["type"] == "comparison":
            assert n == 2, row["id"]
        elif row["type"] == "followup":
            assert row.get("history") and n == 1, row["id"]
        if row["type"] in ("list", "comparison"):
            for title in row["gold_titles"]:
                text = corpus[title].abstract.lower()
                assert any(k.lower() in text for k in row["answer_keywords"]), (row["id"], title)
