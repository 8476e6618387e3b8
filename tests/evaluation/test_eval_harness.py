"""The eval harness on a small question set written here from real titles of the shipped corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.core.errors import PathNotFoundError
from rag.core.settings import PROJECT_DIR
from rag.evaluation import DatasetError, load_dataset, main
from rag.evaluation.metrics import calibration, missing_keywords, retrieval_scores
from rag.ingest.listing import merge_duplicates, parse_listing

DEEPSPEED = (
    "DeepSpeed-MoE: Advancing Mixture-of-Experts Inference and Training to Power "
    "Next-Generation AI Scale"
)
SPLITWISE = "Splitwise: Efficient generative LLM inference using phase splitting"
TINYBERT = "Dynamic-TinyBERT: Boost TinyBERT's Inference Efficiency by Dynamic Sequence Length"
SHARED = (
    "Boosting Inference Efficiency: Unleashing the Power of Parameter-Shared Pre-trained "
    "Language Models"
)

QUESTIONS: list[dict[str, Any]] = [
    {
        "id": "t1",
        "type": "factoid",
        "question": "How much better latency and cost does the mixture-of-experts serving "
        "system give compared to existing MoE inference solutions?",
        "gold_titles": [DEEPSPEED],
        "answer_keywords": ["7.3x"],
        "answer": "7.3x better latency and cost.",
    },
    {
        "id": "t2",
        "type": "identify",
        "question": "Which paper runs prompt computation and token generation of an LLM "
        "request on separate machines?",
        "gold_titles": [SPLITWISE],
        "answer_keywords": ["Splitwise"],
    },
    {
        "id": "t3",
        "type": "multi",
        "question": "Which papers speed up transformer inference by reducing the sequence "
        "length or by sharing parameters?",
        "gold_titles": [TINYBERT, SHARED],
        "answer_keywords": [],
    },
    {
        "id": "t4",
        "type": "unanswerable",
        "question": "What hydration ratio is best for a sourdough rye loaf?",
        "gold_titles": [],
        "answer_keywords": [],
    },
]

REPORT_FILES = ("report.json", "report.md", "chart.png", "failures.jsonl")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evalset") / "mini.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def _fractions(obj: Any, path: str = "") -> list[tuple[str, float]]:
    """Every rate in a summary (keys that are rates, not latencies, counts or tokens)."""
    skip = ("latency", "tokens", "n", "threshold", "j", "seconds", "score", "median", "streamed")
    out: list[tuple[str, float]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if any(str(key).startswith(s) for s in skip):
                continue
            out += _fractions(value, f"{path}.{key}")
    elif isinstance(obj, float):
        out.append((path, obj))
    return out


def _check_report(out: Path) -> dict[str, Any]:
    for name in REPORT_FILES:
        assert (out / name).is_file(), name
    for name in ("report.json", "report.md", "chart.png"):
        assert (out / name).stat().st_size > 0, name  # failures.jsonl is empty when all pass
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    summary = {k: report[k] for k in ("retrieval", "retrieval_by_type", "answers")}
    rates = _fractions(summary)
    assert rates
    for name, value in rates:
        assert 0.0 <= value <= 1.0, (name, value)
    for row in (out / "failures.jsonl").read_text().splitlines():
        fail = json.loads(row)
        assert {"question", "gold", "retrieved", "verdict"} <= fail.keys()
    return report


def test_titles_in_the_test_set_are_real() -> None:
    papers = []
    for f in sorted((PROJECT_DIR / "corpus").glob("*.txt")):
        papers += parse_listing(f.read_text(encoding="utf-8"), f.name)
    titles = {p.title for p in merge_duplicates(papers)}
    for q in QUESTIONS:
        assert set(q["gold_titles"]) <= titles


def test_retrieval_scores_at_document_level() -> None:
    ranked = ["B", "A", "C", "D", "E", "F"]
    assert retrieval_scores(ranked, ["a"]) == {"hit@1": 0.0, "recall@5": 1.0, "mrr@10": 0.5}
    assert retrieval_scores(ranked, ["b", "F"]) == {"hit@1": 1.0, "recall@5": 0.5, "mrr@10": 1.0}
    assert retrieval_scores([], ["a"]) == {"hit@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}


def test_keywords_match_the_figure_however_it_is_written() -> None:
    """ "6 times" is what "6×" says, "20-25x" what "20–25×" says; a different figure is not."""
    text = "trained on over 6× fewer tokens, with a 20–25× speedup"
    assert missing_keywords(text, ["6 times", "20-25x", "6X", "Hawk", "7 times"]) == [
        "Hawk",
        "7 times",
    ]
    # a power written in TeX in the abstract is shown without its braces
    assert missing_keywords("over 10^19 sub-networks", ["10^{19}", "10^{20}"]) == ["10^{20}"]
    assert missing_keywords("in time n^(1+o(1))", ["n^{1+o(1)}"]) == []


def test_calibration_picks_the_threshold_that_separates() -> None:
    signals = [(0.2, False), (0.3, False), (0.6, True), (0.7, True), (0.25, True)]
    cal = calibration(signals, [i / 100 for i in range(101)])
    best = cal["suggested"]
    assert best["correct_abstention"] == 1.0
    assert best["wrong_abstention"] == pytest.approx(1 / 3)
    assert 0.30 < best["threshold"] <= 0.60


def test_bad_datasets_get_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(QUESTIONS[0]) + "\n{not json\n")
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2"):
        load_dataset(bad)
    bad.write_text(json.dumps({**QUESTIONS[0], "type": "opinion"}) + "\n")
    with pytest.raises(DatasetError, match="type"):
        load_dataset(bad)
    with pytest.raises(PathNotFoundError):
        load_dataset(tmp_path / "missing.jsonl")
    result = CliRunner().invoke(app, ["eval", "--dataset", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_retrieval_only_report(assistant: Any, dataset: Path, tmp_path: Path) -> None:
    out = main(dataset, k=5, retrieval_only=True, out_dir=tmp_path / "r", assistant=assistant)
    assert out == tmp_path / "r"
    report = _check_report(out)
    assert report["answers"] == {}
    assert report["config"]["retrieval_only"] is True
    assert report["n_questions"] == len(QUESTIONS)
    rows = report["per_question"]
    for mode in ("bm25", "vector", "hybrid"):
        figures = report["retrieval"][mode]
        assert figures["n"] == 3  # the unanswerable question has no gold titles
        per_q = [r["retrieval"][mode]["scores"] for r in rows if r["answerable"]]
        for metric in ("hit@1", "recall@5", "mrr@10"):
            assert figures[metric] == pytest.approx(sum(s[metric] for s in per_q) / len(per_q))
        for s in per_q:
            assert s["mrr@10"] >= s["hit@1"]
    # Real retrieval on these paraphrases finds most gold papers (not a constant figure).
    assert report["retrieval"]["hybrid"]["recall@5"] >= 0.5
    for cal in report["calibration"].values():
        assert cal["n_unanswerable"] == 1 and cal["n_answerable"] == 3
        assert cal["best_fine"] is not None
    for r in rows:
        hybrid = r["retrieval"]["hybrid"]
        assert 0.0 <= hybrid["evidence_score"] <= 1.0
        assert -1.0 <= hybrid["top_vector_score"] <= hybrid["max_vector_score"] <= 1.0
    md = (out / "report.md").read_text()
    assert "| hybrid |" in md and "| bm25 |" in md and "calibration" in md


def test_limit_takes_the_first_questions(assistant: Any, dataset: Path, tmp_path: Path) -> None:
    out = main(dataset, retrieval_only=True, out_dir=tmp_path / "r", limit=2, assistant=assistant)
    report = json.loads((out / "report.json").read_text())
    assert [r["id"] for r in report["per_question"]] == ["t1", "t2"]


@pytest.mark.slow
def test_answer_eval_with_baselines(
    assistant: Any, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the model restates (off by default for the embedded model): its tokens are accounted
    monkeypatch.setattr(assistant.settings.llm, "restate", True)
    out = main(dataset, k=5, out_dir=tmp_path / "a", assistant=assistant)
    report = _check_report(out)
    answers = report["answers"]
    assert set(answers) == {"llm", "extractive"}
    rows = report["per_question"]
    for config, figures in answers.items():
        verdicts = [r["answers"][config]["verdict"] for r in rows]
        assert figures["accuracy"] == pytest.approx(verdicts.count("correct") / len(rows))
        abstained = [r["answers"][config]["abstained"] for r in rows]
        answered = len(rows) - sum(abstained)
        if answered:
            correct_answered = sum(
                v == "correct" and not a for v, a in zip(verdicts, abstained, strict=True)
            )
            assert figures["precision"] == pytest.approx(correct_answered / answered)
        for stage, lat in figures["latency"].items():
            assert 0 <= lat["p50"] <= lat["p95"], stage
        for r in rows:
            a = r["answers"][config]
            if a["abstained"]:
                assert a["verdict"] in ("correct", "wrong_abstention")
            for s in a["sentences"]:
                assert isinstance(s["supported"], bool)
    llm = answers["llm"]
    assert llm["streamed_violations"] == 0  # what a reader saw streamed is the final answer
    assert 0 < llm["median_chars"] <= 600
    for r in rows:
        a = r["answers"]["llm"]
        assert a["lead"] == a["text"].splitlines()[0] if a["text"] else a["lead"] == ""
        if a["lead_ok"]:
            assert not a["missing_keywords"]  # every keyword of the lead is in the answer
    checks = report["checks"]
    assert checks["n_reference"] > 0 and 0.0 <= checks["reference_kept"] <= 1.0
    assert 0.0 <= checks["non_gold_rejected"] <= 1.0
    assert llm["tokens_in"] > 0 and llm["tokens_out"] > 0
    assert {"retrieve", "generate"} <= set(llm["latency"])
    assert report["config"]["llm"]


@pytest.mark.slow
def test_cli_eval_runs_on_any_dataset(
    rag_env: dict[str, str], dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cli"
    rag = str(Path(sys.executable).parent / "rag")
    cmd = [rag, "eval", "--dataset", str(dataset), "--retrieval-only", "--limit", "2"]
    cmd += ["--out", str(out)]
    proc = subprocess.run(cmd, env=rag_env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert str(out) in proc.stdout.replace("\n", "")
    report = _check_report(out)
    assert report["n_questions"] == 2
