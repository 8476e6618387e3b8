"""Turn `bench/results/*.json` into `bench/results/SUMMARY.md` and the PNG plots.

python -m bench.report
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, read_result

MODES = ("vector", "bm25", "hybrid")


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def fmt(x: Any, unit: str = "", nd: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}{unit}"
    if isinstance(x, int):
        return f"{x:,}{unit}"
    return f"{x}{unit}"


def targets(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, verdict) rows."""
    rows: list[tuple[str, str, str, str]] = []
    idx = (res.get("indexing") or {}).get("summary")
    if idx:
        ov = idx["overhead_ratio"]
        rows.append(
            (
                "Indexing overhead over the bare embedding model",
                "≤ 10%",
                f"{100 * ov:+.1f}% ({idx['end_to_end_chunks_per_s']:.1f} vs "
                f"{idx['bare_chunks_per_s']:.1f} chunks/s)",
                verdict(ov <= 0.10),
            )
        )
        rows.append(
            (
                "No-op re-index of the shipped collection (in process)",
                "< 2 s",
                f"{idx['noop_s']:.2f} s (new Assistant "
                f"{fmt(idx['noop_new_assistant_s'], ' s', 2)}; "
                f"`rag index` process {fmt(idx['noop_cli_s'], ' s', 2)})",
                verdict(idx["noop_s"] < 2.0),
            )
        )
    ret = (res.get("retrieval") or {}).get("modes")
    if ret:
        worst = max(ret[m]["p50_ms"] for m in MODES if m in ret)
        detail = ", ".join(f"{m} {ret[m]['p50_ms']:.1f}" for m in MODES if m in ret) + " ms"
        one = (res.get("retrieval-threads1") or {}).get("modes")
        if one:
            detail += (
                " (with 1 embedding thread: "
                + ", ".join(f"{m} {one[m]['p50_ms']:.1f}" for m in MODES if m in one)
                + " ms)"
            )
        rows.append(
            (
                "Retrieval p50, shipped collection (all modes)",
                "< 30 ms",
                detail,
                verdict(worst < 30),
            )
        )
    one_m = _size_entry(res.get("scale-1m"), 1_000_000)
    if one_m:
        m = one_m["query"]["modes"]
        worst = max(m[x]["p50_ms"] for x in MODES if x in m)
        detail = ", ".join(f"{x} {m[x]['p50_ms']:.0f}" for x in MODES if x in m)
        rows.append(
            (
                "Retrieval p50 at 1M chunks (all modes)",
                "< 100 ms",
                f"{detail} ms",
                verdict(worst < 100),
            )
        )
    else:
        big = _largest(res.get("scale"))
        measured = "not run (opt-in: `python -m bench.scale --sizes 1000000`)"
        if big:
            m = big["query"]["modes"]
            measured += (
                f"; at {big['size']:,}: "
                + ", ".join(f"{x} {m[x]['p50_ms']:.0f}" for x in MODES if x in m)
                + " ms"
            )
        ext = (res.get("scale") or {}).get("extrapolation_1m")
        if ext:
            measured += f"; a 1M build would take ≥ {ext['total_min']:.0f} min here (extrapolated)"
        rows.append(("Retrieval p50 at 1M chunks (all modes)", "< 100 ms", measured, "n/a"))
    ans = (res.get("answering") or {}).get("summary")
    if ans:
        p50 = ans["ttft"]["p50_ms"] / 1000
        rows.append(
            (
                "Time to first token, embedded default, p50",
                "< 3 s",
                f"{p50:.2f} s (p95 {ans['ttft']['p95_ms'] / 1000:.2f} s, n={ans['ttft']['n']})",
                verdict(p50 < 3.0),
            )
        )
    conc = res.get("concurrency") or {}
    if conc.get("levels"):
        ran = [lv for lv in conc["levels"] if "errors" in lv]
        errors = sum(lv["errors"] for lv in ran)
        levels = "/".join(str(lv["concurrency"]) for lv in ran) or "none"
        skipped = [str(lv["concurrency"]) for lv in conc["levels"] if "skipped" in lv]
        note = f"{errors} errors (levels run: {levels}"
        note += f"; skipped for time: {'/'.join(skipped)})" if skipped else ")"
        ok = errors == 0 and bool(ran)
        rows.append(
            ("HTTP API under 1/4/16 simultaneous questions", "no errors", note, verdict(ok))
        )
    elif conc.get("skipped"):
        rows.append(
            ("HTTP API under 1/4/16 simultaneous questions", "no errors", conc["skipped"], "n/a")
        )
    return rows


def _size_entry(data: dict[str, Any] | None, size: int) -> dict[str, Any] | None:
    for e in (data or {}).get("sizes", []):
        if e["size"] == size:
            return dict(e)
    return None


def _largest(data: dict[str, Any] | None) -> dict[str, Any] | None:
    sizes = (data or {}).get("sizes", [])
    return max(sizes, key=lambda e: e["size"]) if sizes else None


def scale_points(res: dict[str, Any]) -> list[dict[str, Any]]:
    """(size, modes, memory, disk) for the shipped collection and every synthetic one."""
    pts: list[dict[str, Any]] = []
    ret = res.get("retrieval")
    if ret and ret.get("modes"):
        pts.append(
            {
                "size": ret["chunks"],
                "label": "shipped",
                "runtime": ret.get("embedding_runtime", "onnx"),
                "modes": ret["modes"],
                "rss_mb": ret.get("rss_mb"),
                "disk_mb": ret.get("index_size_mb"),
                "open_s": None,
            }
        )
    one = res.get("retrieval-threads1")
    if one and one.get("modes"):
        pts.append(
            {
                "size": one["chunks"],
                "label": "shipped, 1 thread",
                "modes": one["modes"],
                "rss_mb": one.get("rss_mb"),
                "disk_mb": one.get("index_size_mb"),
                "open_s": None,
                "plot": False,
            }
        )
    for name in ("scale", "scale-1m"):
        for e in (res.get(name) or {}).get("sizes", []):
            modes = {m: dict(v) for m, v in e["query"]["modes"].items()}
            runs = (e.get("start") or {}).get("runs") or []
            if runs and "hybrid" in modes:  # a new process's first query (lexical index loaded)
                first = sorted(r["first_query_s"] for r in runs)[len(runs) // 2]
                modes["hybrid"].setdefault("cold_ms", round(1000 * first, 1))
            pts.append(
                {
                    "size": e["size"],
                    "label": "synthetic",
                    # runs before the onnxruntime switch recorded torch's thread count only
                    "runtime": e["query"].get("threads", {}).get("embedding_runtime", "torch"),
                    "modes": modes,
                    "rss_mb": e["query"]["rss_mb"],
                    "disk_mb": e["index_size_mb"],
                    "open_s": e["query"]["open_s"],
                    "write_chunks_per_s": e["build"].get("write_chunks_per_s"),
                }
            )
    return sorted(pts, key=lambda p: p["size"])


def plot_latency(points: list[dict[str, Any]], path: Path) -> bool:
    points = [p for p in points if p.get("plot", True)]
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    colors = {"vector": "tab:blue", "bm25": "tab:orange", "hybrid": "tab:green"}
    xs = [p["size"] for p in points]
    for mode in MODES:
        p50 = [p["modes"].get(mode, {}).get("p50_ms") for p in points]
        p95 = [p["modes"].get(mode, {}).get("p95_ms") for p in points]
        ax.plot(xs, p50, "o-", color=colors[mode], label=f"{mode} p50")
        ax.plot(xs, p95, "x--", color=colors[mode], alpha=0.6, label=f"{mode} p95")
    ax.axhline(30, color="grey", lw=0.8, ls=":")
    ax.axhline(100, color="grey", lw=0.8, ls=":")
    ax.text(xs[0], 31, "30 ms target (shipped)", fontsize=7, color="grey")
    ax.text(xs[0], 103, "100 ms target (1M)", fontsize=7, color="grey")
    for p in points:  # which runtime embedded the question: torch adds ~15 ms per question
        hybrid = p["modes"].get("hybrid", {}).get("p50_ms")
        if hybrid and p.get("runtime"):
            ax.annotate(
                p["runtime"],
                (p["size"], hybrid),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7,
                color="tab:green",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the collection (label: the question's embedding runtime)")
    ax.set_ylabel("retrieve() latency, ms")
    ax.set_title("Retrieval latency against collection size (2 shared cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_stages(ans: dict[str, Any] | None, path: Path) -> bool:
    shares = (ans or {}).get("summary", {}).get("stage_share_of_total")
    if not shares:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 1.9), dpi=120)
    left = 0.0
    for name, share in shares.items():
        share = max(0.0, share)
        ax.barh([0], [share], left=left, label=f"{name} {100 * share:.0f}%")
        left += share
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_title("Where an answer's time goes (embedded SmolLM2-135M)", fontsize=9)
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def summary(res: dict[str, Any]) -> str:
    lines = ["# Benchmark summary", ""]
    run = res.get("run_all") or {}
    m: dict[str, Any] = run.get("machine_start") or next(
        (r["machine"] for r in res.values() if isinstance(r, dict) and "machine" in r), {}
    )
    if m:
        loads = sorted(
            {
                tuple(r["machine"]["loadavg_1_5_15"])
                for r in res.values()
                if isinstance(r, dict) and "machine" in r
            }
        )
        load_note = ", ".join(f"{lo[0]:.1f}" for lo in loads)
        lines += [
            f"Measured {m.get('time', '?')} on {m.get('cpus')} CPUs, "
            f"{m.get('total_memory_gb')} GB RAM, Python {m.get('python')}. "
            f"**The machine was shared with other jobs**: 1-minute load average at the end of each "
            f"benchmark: {load_note} (2 cores; above 2 means work was waiting for a core). "
            "Absolute times are therefore pessimistic and noisy; ratios measured in one process "
            "(indexing overhead) are the more robust figures.",
            "",
        ]
        if run.get("total_s"):
            lines += [f"`make bench` took {run['total_s'] / 60:.1f} min in all.", ""]
    lines += ["## Targets", ""]
    lines += md_table(["Target", "Limit", "Measured", ""], [list(r) for r in targets(res)])
    lines += [""]
    lines += _indexing_md(res.get("indexing"))
    lines += _retrieval_md(res)
    lines += _answering_md(res.get("answering"))
    lines += _concurrency_md(res.get("concurrency"))
    lines += _threads_md(res.get("threads"))
    chroma = res.get("chroma_server_latency")
    if chroma:
        lines += _chroma_md(chroma)
    return "\n".join(lines) + "\n"


def _indexing_md(idx: dict[str, Any] | None) -> list[str]:
    if not idx:
        return []
    s = idx["summary"]
    run = idx["runs"][-1]
    e2e, bare = run["end_to_end"], run["bare"]
    rows = [
        ["Chunks embedded", fmt(s["chunks_embedded"])],
        [
            "End to end (`Assistant.index` on a fresh index)",
            f"{e2e['seconds']:.1f} s, {s['end_to_end_chunks_per_s']:.1f} chunks/s",
        ],
        [
            "Bare model (`SentenceTransformer.encode`, same texts)",
            f"{bare['seconds']:.1f} s, {s['bare_chunks_per_s']:.1f} chunks/s",
        ],
        ["Pipeline overhead", f"{100 * s['overhead_ratio']:+.1f}%"],
        [
            "… of the end-to-end time: inside the model's `encode` / around it",
            f"{fmt(s.get('in_encode_s'), ' s')} / {fmt(s.get('outside_encode_s'), ' s')} "
            f"(encode batch sizes the pipeline used: {e2e.get('encode_batch_sizes', '?')})",
        ],
        [
            "Bare model fed the pipeline's groups of "
            f"{bare.get('group_size', '?')} (same texts, same process)",
            fmt(bare.get("pipeline_groups_s"), " s"),
        ],
        ["Model load (apart, both sides)", f"{e2e['model_load_s']:.1f} s"],
        ["Parse + split the corpus (incl. imports)", f"{idx['parse_split_s']:.1f} s"],
        [
            "No-op re-index: same process / new Assistant / `rag index` process",
            f"{s['noop_s']:.2f} s / {fmt(s['noop_new_assistant_s'], ' s', 2)} / "
            f"{fmt(s['noop_cli_s'], ' s', 2)}",
        ],
        ["Peak RSS while indexing", f"{s['peak_rss_mb']:.0f} MB"],
        ["Index on disk", f"{idx['index_size_mb']:.1f} MB"],
    ]
    return ["## Indexing (shipped corpus)", "", *md_table(["", ""], rows), ""]


def _retrieval_md(res: dict[str, Any]) -> list[str]:
    pts = scale_points(res)
    if not pts:
        return []
    rows = []
    for p in pts:
        cells = [f"{p['size']:,} ({p['label']})"]
        for mode in MODES:
            mm = p["modes"].get(mode, {})
            cells.append(f"{fmt(mm.get('p50_ms'))} / {fmt(mm.get('p95_ms'))}")
        emb = p["modes"].get("embed_only", {})
        cells.append(f"{fmt(emb.get('p50_ms'))} / {fmt(emb.get('p95_ms'))}")
        cells.append(fmt(p["modes"].get("hybrid", {}).get("cold_ms"), " ms", 0))
        cells += [fmt(p["rss_mb"], " MB", 0), fmt(p["disk_mb"], " MB", 1)]
        rows.append(cells)
    out = [
        "## Retrieval",
        "",
        "`Assistant.retrieve(question, k=5, mode=…)`, p50 / p95 in ms "
        "(question embedding included). "
        "Cold = the first hybrid call after opening (the lexical index is loaded from disk, "
        "rag/storage/lexical.py; before it was built from the store here). "
        "Embed = the question's MiniLM embedding alone, which every mode computes first. "
        "RSS = the querying process after the queries.",
        "",
        *md_table(
            ["Chunks", "vector", "bm25", "hybrid", "of which: embed", "cold hybrid", "RSS", "disk"],
            rows,
        ),
        "",
        "![latency against size](latency_vs_size.png)",
        "",
    ]
    scale = res.get("scale") or res.get("scale-1m")
    if scale:
        out += [
            "Synthetic collections: " + scale["method"] + ". Texts recombine "
            f"{scale['sentence_pool']:,} sentences of the shipped abstracts "
            "(real BM25 vocabulary); "
            "vectors are the normalised mean of the real MiniLM vectors of their sentences, "
            "precomputed rather than embedding every chunk (which would take hours on 2 cores).",
            "",
        ]
        builds = [
            f"{e['size']:,}: {fmt(e['build'].get('write_chunks_per_s'), ' chunks/s', 0)}"
            + (" (cached build)" if e.get("build_reused") else "")
            for e in scale["sizes"]
        ]
        out += ["Write speed through the store path: " + "; ".join(builds) + ".", ""]
    prof = (res.get("retrieval") or {}).get("profile_hybrid_top")
    if prof:
        out += [
            "Profile of hybrid `retrieve` on the shipped collection (own time, top functions; "
            "full profile in `retrieval-hybrid.prof.txt`):",
            "",
            "```",
            *prof,
            "```",
            "",
        ]
    big = _largest(res.get("scale-1m")) or _largest(res.get("scale"))
    if big and big["query"].get("profile_hybrid_top"):
        out += [
            f"The same at {big['size']:,} synthetic chunks "
            f"(`synthetic-{big['size']}-hybrid.prof.txt`):",
            "",
            "```",
            *big["query"]["profile_hybrid_top"],
            "```",
            "",
        ]
    return out


def _answering_md(ans: dict[str, Any] | None) -> list[str]:
    if not ans:
        return []
    s = ans["summary"]
    rows = [
        ["LLM", str(ans.get("llm", ""))],
        [
            "Questions (after 1 warm-up)",
            f"{s['n']} ({s['abstained']} abstained, {s['fallback']} quoted evidence)",
        ],
        [
            "Time to first token p50 / p95",
            f"{s['ttft']['p50_ms'] / 1000:.2f} / {s['ttft']['p95_ms'] / 1000:.2f} s",
        ],
        [
            "Total p50 / p95",
            f"{s['total']['p50_ms'] / 1000:.2f} / {s['total']['p95_ms'] / 1000:.2f} s",
        ],
        ["Tokens in (mean / max)", f"{s['tokens_in_mean']} / {s['tokens_in_max']}"],
        ["Tokens out (mean / max)", f"{s['tokens_out_mean']} / {s['tokens_out_max']}"],
        ["LLM load (first use)", f"{ans.get('llm_load_s', 0):.1f} s"],
    ]
    shares = ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["stage_share_of_total"].items())
    return [
        "## Answering (embedded default)",
        "",
        *md_table(["", ""], rows),
        "",
        f"Share of total time: {shares}. (Retrieval = condense + retrieve; prompt processing = "
        "request to first token; generation = the rest of the LLM call; citation check = `check`.)",
        "",
        "![answer stages](answer_stages.png)",
        "",
    ]


def _concurrency_md(conc: dict[str, Any] | None) -> list[str]:
    if not conc:
        return []
    if conc.get("skipped"):
        return ["## Concurrency (HTTP API)", "", conc["skipped"], ""]
    rows = [
        [str(lv["concurrency"]), str(lv["requests"]), lv["skipped"], "", "", ""]
        if "skipped" in lv
        else [
            str(lv["concurrency"]),
            str(lv["requests"]),
            f"{lv['throughput_qps']:.2f}",
            f"{lv['latency']['p50_ms'] / 1000:.2f}",
            f"{lv['latency']['p95_ms'] / 1000:.2f}",
            str(lv["errors"]),
        ]
        for lv in conc["levels"]
    ]
    return [
        "## Concurrency (HTTP API, `rag serve`)",
        "",
        "Non-streaming `POST /v1/chat/completions`, all requests of a level sent at once.",
        "",
        *md_table(["Simultaneous", "Requests", "Answers/s", "p50 s", "p95 s", "Errors"], rows),
        "",
    ]


def _chroma_md(ch: dict[str, Any]) -> list[str]:
    rows = []
    for key in ("store_query", "retrieve_vector", "retrieve_bm25", "retrieve_hybrid"):
        if key in ch:
            e, sv = ch[key].get("embedded", {}), ch[key].get("server", {})
            rows.append(
                [
                    f"`{key}`",
                    f"{fmt(e.get('p50_ms'))} / {fmt(e.get('p95_ms'))}",
                    f"{fmt(sv.get('p50_ms'))} / {fmt(sv.get('p95_ms'))}",
                ]
            )
    return [
        "## Chroma server against the embedded store (`bench/chroma_server_latency.py`)",
        "",
        "Same collection, same questions, alternating. `store_query` is Chroma alone with a "
        "precomputed question vector; `retrieve_*` is `Assistant.retrieve` end to end. ms:",
        "",
        *md_table(["", "embedded p50 / p95", "server p50 / p95"], rows),
        "",
    ]


def _threads_md(th: dict[str, Any] | None) -> list[str]:
    if not th:
        return []
    q = th["minilm_query"]
    qrows = [[k.replace("_", " "), fmt(v["p50_ms"]), fmt(v["p95_ms"])] for k, v in q.items()]
    lrows = [
        [
            str(r["n_threads"]),
            str(r["n_threads_batch"]),
            str(r["prompt_tokens"]),
            f"{r['ttft_s']:.2f}",
            fmt(r["prompt_tokens_per_s"]),
            fmt(r["gen_tokens_per_s"]),
        ]
        for r in th.get("llama_cpp", [])
    ]
    return [
        "## Threads on a busy machine",
        "",
        f"Load average during this step: {th['loadavg_before'][0]:.1f} → "
        f"{th['loadavg_after'][0]:.1f} on 2 cores.",
        "",
        "MiniLM, one question (`encode([q])`), ms:",
        "",
        *md_table(["embedding threads", "p50", "p95"], qrows),
        "",
        "SmolLM2-135M with llama.cpp, one ~400-token prompt, 48 tokens out "
        "(first row of each pair: how `rag/answer/llm.py` builds it):",
        "",
        *md_table(
            ["n_threads", "n_threads_batch", "prompt tok", "TTFT s", "prompt tok/s", "gen tok/s"],
            lrows,
        ),
        "",
    ]


def main(argv: list[str] | None = None) -> Path:
    names = [
        "indexing",
        "retrieval",
        "retrieval-threads1",
        "scale",
        "scale-1m",
        "answering",
        "concurrency",
        "threads",
    ]
    res: dict[str, Any] = {n: read_result(n) for n in names}
    res["chroma_server_latency"] = read_result("chroma_server_latency")
    run_all = RESULTS_DIR / "run_all.json"
    res["run_all"] = json.loads(run_all.read_text()) if run_all.exists() else None
    plot_latency(scale_points(res), RESULTS_DIR / "latency_vs_size.png")
    plot_stages(res.get("answering"), RESULTS_DIR / "answer_stages.png")
    path = RESULTS_DIR / "SUMMARY.md"
    path.write_text(summary(res), encoding="utf-8")
    print(f"[bench] wrote {path}")
    return path


if __name__ == "__main__":
    main()
