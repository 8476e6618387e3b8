"""Turns per-question rows into the report: JSON figures, a Markdown table, a chart, failures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.evaluation.metrics import answer_summary, calibration, retrieval_summary
from rag.evaluation.runner import RETRIEVAL_MODES

RETRIEVAL_METRICS = ("hit@1", "recall@5", "mrr@10")
ANSWER_METRICS = (
    ("keyword_accuracy", "keyword acc."),
    ("citation_precision", "cit. precision"),
    ("citation_recall", "cit. recall"),
    ("citation_support", "cit. support (ALCE)"),
    ("lead_accuracy", "lead acc."),
    ("wrong_lead", "wrong lead"),
    ("correct_abstention", "correct abstention"),
    ("wrong_abstention", "wrong abstention"),
    ("accuracy", "accuracy"),
    ("precision", "precision"),
)
COST_STAGES = ("retrieve", "first_token", "generate", "check", "total")
# Abstention signals calibrated, each over the hybrid ranking's top k passages: the core's
# evidence score (what `retrieval.abstain_threshold` is compared to) and the first passage's cosine.
CALIBRATION_SIGNALS = ("evidence_score", "top_vector_score")


def summarise(
    rows: Sequence[dict[str, Any]], configs: Sequence[str], config: dict[str, Any]
) -> dict[str, Any]:
    """Every figure of the run, with its configuration and the per-question rows."""
    types = sorted({r["type"] for r in rows})
    modes = [m for m in RETRIEVAL_MODES if rows and m in rows[0]["retrieval"]]
    splits = sorted({r.get("split") or "" for r in rows} - {""})
    return {
        "config": config,
        "n_questions": len(rows),
        "by_type_count": {t: sum(r["type"] == t for r in rows) for t in types},
        "retrieval": {m: retrieval_summary([r["retrieval"][m] for r in rows]) for m in modes},
        "retrieval_by_type": {
            t: {
                m: retrieval_summary([r["retrieval"][m] for r in rows if r["type"] == t])
                for m in modes
            }
            for t in types
            if t != "unanswerable"
        },
        "answers": {c: answer_summary([{**r["answers"][c]} for r in rows]) for c in configs},
        "answers_by_type": {
            c: {t: answer_summary([r["answers"][c] for r in rows if r["type"] == t]) for t in types}
            for c in configs
        },
        # tune vs test: the held-out gap says whether answering generalizes
        "answers_by_split": {
            c: {
                s: answer_summary([r["answers"][c] for r in rows if r.get("split") == s])
                for s in splits
            }
            for c in configs
        },
        "answers_by_split_type": {
            c: {
                s: {
                    t: answer_summary(
                        [r["answers"][c] for r in rows if r.get("split") == s and r["type"] == t]
                    )
                    for t in types
                    if any(r.get("split") == s and r["type"] == t for r in rows)
                }
                for s in splits
            }
            for c in configs
        },
        "calibration": {name: _calibrate(rows, name) for name in CALIBRATION_SIGNALS},
        "per_question": list(rows),
    }


def _calibrate(rows: Sequence[dict[str, Any]], signal: str) -> dict[str, Any]:
    signals = [(r["retrieval"]["hybrid"][signal], r["answerable"]) for r in rows]
    coarse = calibration(signals)
    coarse["best_fine"] = calibration(signals, [i / 100 for i in range(101)])["suggested"]
    return coarse


def failures(rows: Sequence[dict[str, Any]], configs: Sequence[str]) -> list[dict[str, Any]]:
    """Questions where hybrid retrieval missed a gold paper in the top 5 or an answer was wrong."""
    out = []
    for r in rows:
        hybrid = r["retrieval"]["hybrid"]
        verdicts = {c: r["answers"][c]["verdict"] for c in configs}
        retrieval_miss = bool(hybrid["scores"]) and hybrid["scores"]["recall@5"] < 1.0
        if not retrieval_miss and all(v == "correct" for v in verdicts.values()):
            continue
        row: dict[str, Any] = {
            "id": r["id"],
            "type": r["type"],
            "question": r["question"],
            "gold": r["gold_titles"],
            "answer_keywords": r["answer_keywords"],
            "retrieved": hybrid["ranked_titles"][:5],
            "retrieval_scores": hybrid["scores"],
            "verdict": {"retrieval": "miss" if retrieval_miss else "ok", **verdicts},
        }
        for c in configs:
            a = r["answers"][c]
            row[c] = {
                "answer": a["text"],
                "citations": a["citations"],
                "missing_keywords": a["missing_keywords"],
                "unsupported_sentences": [
                    s["sentence"] for s in a["sentences"] if not s["supported"]
                ],
            }
        out.append(row)
    return out


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _p50_p95(lat: dict[str, float | None] | None) -> str:
    return f"{_fmt(lat['p50'], 2)} / {_fmt(lat['p95'], 2)}" if lat else "–"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return lines


def report_subtypes(answers: dict[str, Any]) -> list[str]:
    """The unanswerable subtypes present (columns "refused: near_miss" …)."""
    return sorted({t for s in answers.values() for t in s.get("refused_by_subtype", {})})


SPLIT_METRICS = (
    ("lead_accuracy", "lead acc."),
    ("keyword_accuracy", "keywords"),
    ("keyword_recall", "keyword recall"),
    ("wrong_abstention", "answerable refused"),
    ("correct_abstention", "unanswerable refused"),
    ("citation_precision", "cited-paper precision"),
)


def _split_md(report: dict[str, Any]) -> list[str]:
    """Tune vs held-out test, by question type: the gap says whether answering generalizes."""
    lines: list[str] = []
    for config, by_split in report.get("answers_by_split", {}).items():
        if not by_split:
            continue
        lines += ["", f"## Tune vs test ({config})", ""]
        lines += _table(
            ["split", "n", *(label for _, label in SPLIT_METRICS)],
            [[s, a["n"], *(a[key] for key, _ in SPLIT_METRICS)] for s, a in by_split.items()],
        )
        if {"tune", "test"} <= set(by_split):
            tune, test = by_split["tune"]["lead_accuracy"], by_split["test"]["lead_accuracy"]
            if tune is not None and test is not None:
                lines += ["", f"Lead accuracy gap, tune − test: {tune - test:+.3f}"]
        for split, by_type in report["answers_by_split_type"][config].items():
            lines += ["", f"### {split}, by question type ({config})", ""]
            lines += _table(
                ["type", "n", *(label for _, label in SPLIT_METRICS)],
                [[t, a["n"], *(a[key] for key, _ in SPLIT_METRICS)] for t, a in by_type.items()],
            )
    return lines


def markdown(report: dict[str, Any]) -> str:
    cfg = report["config"]
    ret = report["retrieval"]
    n_gold = ret["hybrid"]["n"]
    counts = ", ".join(f"{t}: {n}" for t, n in report["by_type_count"].items())
    llm = cfg["llm"] or "– (retrieval only)"
    lines = [
        f"# Eval report — {cfg['dataset']}",
        "",
        f"{report['n_questions']} questions ({counts}); k={cfg['k']}; "
        f"embedding {cfg['embedding_model']}; LLM {llm}; commit {cfg['git_commit'] or '?'}; "
        f"{cfg['started']}; {cfg['wall_seconds']:.0f}s.",
        "",
        f"## Retrieval (document level, {n_gold} questions with gold titles)",
        "",
    ]
    lines += _table(
        ["mode", "hit@1", "recall@5", "MRR@10", "latency p50 (s)", "p95 (s)"],
        [
            [
                m,
                *(ret[m][x] for x in RETRIEVAL_METRICS),
                ret[m]["latency"]["p50"],
                ret[m]["latency"]["p95"],
            ]
            for m in ret
        ],
    )
    lines += ["", "### By question type (hit@1 / recall@5 / MRR@10)", ""]
    lines += _table(
        ["type", "n", *ret],
        [
            [t, by["hybrid"]["n"]]
            + ["/".join(_fmt(by[m][x], 2) for x in RETRIEVAL_METRICS) for m in ret]
            for t, by in report["retrieval_by_type"].items()
        ],
    )
    answers = report["answers"]
    lines += _split_md(report)
    if answers:
        lines += ["", "## Answers", ""]
        lines += _table(
            ["config", *(label for _, label in ANSWER_METRICS)],
            [[c, *(s[key] for key, _ in ANSWER_METRICS)] for c, s in answers.items()],
        )
        if any(s["citation_support_judge"] is not None for s in answers.values()):
            lines += ["", "Citation support by the LLM judge: "]
            lines += [f"- {c}: {_fmt(s['citation_support_judge'])}" for c, s in answers.items()]
        stages = [x for x in COST_STAGES if any(x in s["latency"] for s in answers.values())]
        lines += ["", "## Cost (latency p50 / p95 in seconds; tokens per question, mean)", ""]
        lines += _table(
            ["config", *stages, "tokens in", "tokens out"],
            [
                [
                    c,
                    *(_p50_p95(s["latency"].get(x)) for x in stages),
                    s["tokens_in"],
                    s["tokens_out"],
                ]
                for c, s in answers.items()
            ],
        )
    if answers:
        lines += ["", "### Refusals and length", ""]
        lines += _table(
            ["config", "median chars", "streamed ≠ final", *report_subtypes(answers)],
            [
                [
                    c,
                    s["median_chars"],
                    s["streamed_violations"],
                    *(s["refused_by_subtype"].get(t) for t in report_subtypes(answers)),
                ]
                for c, s in answers.items()
            ],
        )
    checks = report.get("checks")
    if checks:
        lines += [
            "",
            "## The checks as a classifier (no model)",
            "",
            f"- reference answers cited to their gold passage, kept: "
            f"{_fmt(checks['reference_kept'])} of {checks['n_reference']}",
            f"- true sentences of a retrieved non-gold paper, rejected: "
            f"{_fmt(checks['non_gold_rejected'])} of {checks['n_non_gold']}",
        ]
    threshold = cfg["retrieval"].get("abstain_threshold")
    lines += ["", f"Configured `retrieval.abstain_threshold`: {threshold} (on `evidence_score`)."]
    for signal, cal in report["calibration"].items():
        lines += _calibration_md(signal, cal)
    if cfg.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in cfg["notes"]]
    return "\n".join(lines) + "\n"


def _calibration_md(signal: str, cal: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## Abstention calibration: abstain when hybrid `{signal}` < threshold",
        "",
        f"{cal['n_unanswerable']} unanswerable, {cal['n_answerable']} answerable questions; "
        "J = correct abstention − wrong abstention.",
        "",
    ]
    lines += _table(
        ["threshold", "correct abstention", "wrong abstention", "J"],
        [
            [f"{r['threshold']:.2f}", r["correct_abstention"], r["wrong_abstention"], r["j"]]
            for r in cal["table"]
        ],
    )
    best = cal["best_fine"]
    if best:
        lines += [
            "",
            f"Best threshold on a 0.01 grid: **{best['threshold']:.2f}** (correct abstention "
            f"{_fmt(best['correct_abstention'])}, "
            f"wrong abstention {_fmt(best['wrong_abstention'])}).",
        ]
    return lines


def chart(report: dict[str, Any], path: Path) -> None:
    """Grouped bars: retrieval modes on their metrics; answer configurations on theirs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels: list[tuple[str, dict[str, dict[str, Any]], Sequence[tuple[str, str]]]] = [
        ("Retrieval (document level)", report["retrieval"], [(m, m) for m in RETRIEVAL_METRICS])
    ]
    if report["answers"]:
        panels.append(("Answers", report["answers"], ANSWER_METRICS))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6 + 6 * (len(panels) - 1), 4.5), squeeze=False
    )
    for ax, (title, groups, metrics) in zip(axes[0], panels, strict=True):
        x = np.arange(len(metrics))
        width = 0.8 / max(len(groups), 1)
        for i, (name, figures) in enumerate(groups.items()):
            values = [figures[key] if figures[key] is not None else 0.0 for key, _ in metrics]
            ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name)
        ax.set_xticks(x, [label for _, label in metrics], rotation=30, ha="right")
        ax.set_ylim(0, 1.25)  # headroom for the legend above the bars
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_title(title)
        ax.legend(loc="upper center", ncol=len(groups), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(report: dict[str, Any], fails: Sequence[dict[str, Any]], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (out_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    with (out_dir / "failures.jsonl").open("w", encoding="utf-8") as fh:
        for row in fails:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    chart(report, out_dir / "chart.png")
