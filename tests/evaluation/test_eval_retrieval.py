"""CI regression guard: retrieval-only eval on the development set, with floors.

The floors sit a little under the figures measured on eval/dev.jsonl (166 questions, 143 with
gold titles) with distribution-based fusion weighted 0.6 BM25 / 0.4 vector: hybrid hit@1 0.993,
recall@5 ~0.99; BM25 alone 0.986 / 1.000 / 0.993; vector alone 0.797 / 0.893 / 0.840 (with
reciprocal rank fusion hybrid was 0.916 / 0.972 / 0.946). A change that loses recall fails here.
Raise the floors when retrieval improves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.evaluation import default_dataset, main

FLOORS = {"hit@1": 0.96, "recall@5": 0.96, "mrr@10": 0.96}
# Fusion must not lose what either retriever finds: hybrid recall@5 may trail the better of
# BM25 and vector by at most this much.
FUSION_MARGIN = 0.03


@pytest.fixture(scope="module")
def report(assistant: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dataset = default_dataset()
    if not dataset.is_file():
        pytest.fail(f"the development set is missing: {dataset}")
    out = main(
        dataset,
        k=5,
        retrieval_only=True,
        out_dir=tmp_path_factory.mktemp("eval-retrieval"),
        assistant=assistant,
        progress=False,
    )
    return json.loads((Path(out) / "report.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_hybrid_retrieval_stays_above_its_floor(report: dict[str, Any], metric: str) -> None:
    hybrid = report["retrieval"]["hybrid"]
    assert hybrid["n"] >= 100, "the development set should have at least 100 answerable questions"
    assert hybrid[metric] >= FLOORS[metric], (
        f"hybrid {metric} fell to {hybrid[metric]:.3f} (floor {FLOORS[metric]}); "
        f"see the failures in the report"
    )


def test_fusion_keeps_what_either_retriever_finds(report: dict[str, Any]) -> None:
    r = report["retrieval"]
    best_single = max(r["bm25"]["recall@5"], r["vector"]["recall@5"])
    assert r["hybrid"]["recall@5"] >= best_single - FUSION_MARGIN, (
        f"hybrid recall@5 {r['hybrid']['recall@5']:.3f} vs best single retriever {best_single:.3f}"
    )
