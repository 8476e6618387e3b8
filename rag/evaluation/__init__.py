"""The eval harness: `rag eval` measures retrieval, answers, citations, abstention and cost.

    rag eval [--split all|tune|test | --dataset FILE] [--quick] [--k 5] [--retrieval-only]
             [--out DIR] [--limit N]

writes `eval/reports/<timestamp>/`: report.json (every figure and the configuration),
report.md (tables comparing the configurations), chart.png and failures.jsonl.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rag.core.settings import PROJECT_DIR, Settings, _project_path
from rag.evaluation.dataset import DatasetError, EvalItem, load_dataset, load_split
from rag.evaluation.metrics import SentenceSplitter, SupportCheck
from rag.evaluation.runner import Evaluator

__all__ = ["DatasetError", "EvalItem", "Evaluator", "load_dataset", "main", "run"]


def default_dataset() -> Path:
    """The historical development set (part of the tune split)."""
    return _project_path("eval") / "dev.jsonl"


def eval_dir() -> Path:
    return _project_path("eval")


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _new_report_dir() -> Path:
    base = _project_path("eval") / "reports"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = base / stamp, 1
    while path.exists():
        n += 1
        path = base / f"{stamp}-{n}"
    return path


def _support_tools() -> tuple[SupportCheck, SentenceSplitter]:
    """The core's own support check and sentence splitter, so the eval judges as the core does."""
    from rag.answer.citations import supports
    from rag.core.text import split_sentences

    return supports, split_sentences


def run(
    assistant: Any,
    items: list[EvalItem],
    *,
    k: int = 5,
    retrieval_only: bool = False,
    out_dir: Path,
    dataset: str = "",
    progress: bool = True,
    quick: bool = False,
) -> dict[str, Any]:
    """Evaluate `assistant` on `items`, write the report into `out_dir`, return its figures."""
    from rag.evaluation import report as rpt
    from rag.evaluation.judge import make_judge

    settings: Settings = assistant.settings
    supports = split = judge = None
    if not retrieval_only:
        supports, split = _support_tools()
        judge = None if quick else make_judge(settings)
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    evaluator = Evaluator(
        assistant,
        k=k,
        retrieval_only=retrieval_only,
        supports=supports,
        split=split,
        judge=judge,
        quick=quick,
    )
    skipped = [i.id for i in items if i.needs_review]
    rows = evaluator.run([i for i in items if not i.needs_review], progress=progress)
    notes = list(evaluator.notes)
    if skipped:
        notes.append(f"{len(skipped)} questions marked needs_review were skipped: {skipped}")
    if not retrieval_only and judge is None:
        notes.append("no LLM judge: llm.provider is not 'openai' (support judged offline only)")
    config = {
        "dataset": dataset,
        "k": k,
        "retrieval_only": retrieval_only,
        "quick": quick,
        "configs": list(evaluator.configs),
        "embedding_model": settings.embedding.model,
        "embedding_provider": settings.embedding.provider,
        "llm_provider": settings.llm.provider,
        "llm": None if retrieval_only else assistant.llm_name,
        "retrieval": settings.retrieval.model_dump(),
        "llm_settings": settings.llm.model_dump(exclude={"api_key"}),
        "git_commit": _git_commit(),
        "started": started,
        "wall_seconds": time.perf_counter() - t0,
        "notes": notes,
    }
    report = rpt.summarise(rows, evaluator.configs, config)
    if not retrieval_only and not quick:
        from rag.evaluation.checks import check_classifier

        report["checks"] = check_classifier(assistant, [i for i in items if not i.needs_review], k)
    rpt.write(report, rpt.failures(rows, evaluator.configs), out_dir)
    return report


def main(
    dataset: Path | None = None,
    k: int = 5,
    retrieval_only: bool = False,
    out_dir: Path | None = None,
    limit: int | None = None,
    *,
    assistant: Any = None,
    progress: bool = True,
    split: str = "all",
    quick: bool = False,
) -> Path:
    """What `rag eval` runs; returns the report folder. Without `dataset`, the questions of
    `split` (tune, test or all: eval/dev.jsonl + eval/tune.jsonl, eval/test.jsonl)."""
    if k < 1:
        raise DatasetError("--k must be at least 1")
    if limit is not None and limit < 1:
        raise DatasetError("--limit must be at least 1")
    if dataset:
        items, source = load_dataset(Path(dataset))[:limit], str(dataset)
    else:
        items, source = load_split(eval_dir(), split)[:limit], f"split {split}"
    if assistant is None:
        from rag.service.assistant import Assistant

        assistant = Assistant(Settings(), progress=progress)
    out = Path(out_dir) if out_dir else _new_report_dir()
    run(
        assistant,
        items,
        k=k,
        retrieval_only=retrieval_only,
        out_dir=out,
        dataset=source,
        progress=progress,
        quick=quick,
    )
    return out
