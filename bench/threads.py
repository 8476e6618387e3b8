"""Thread counts on a busy 2-core machine: MiniLM query embedding and llama.cpp, 1 vs 2 threads.

    python -m bench.threads [--repeats 12]

Why this exists: on a shared machine (load above the core count), a compute library that
spreads one small job over every core waits at each barrier for a thread that is not running.
This measures the two models the core runs on each question, each way, in one process:
- MiniLM (torch): `encode([question])` with `torch.set_num_threads(2)` and `(1)`.
- SmolLM2-135M (llama.cpp): prompt processing (time to first token) and generation speed with
  the core's construction (`n_threads=os.cpu_count()`, `n_threads_batch` left at llama-cpp-python's
  default, which is every core) and with `n_threads=n_threads_batch=1`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from typing import Any

from bench.common import latency_stats, load_window, questions, write_result

# A realistic prompt length for the answer step (~400 tokens: 5 passages and the instructions).
PROMPT = (
    "Answer from the numbered passages only and cite each claim as [n].\n\n"
    + "\n\n".join(
        f"[{i}] " + "Quantization of the key-value cache reduces memory. " * 9 for i in range(1, 5)
    )
    + "\n\nQuestion: Which method reduces the KV cache memory?"
)


def torch_queries(repeats: int) -> dict[str, Any]:
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.storage.embeddings import resolve_local_model

    model = SentenceTransformer(resolve_local_model("all-MiniLM-L6-v2"), device="cpu")
    qs = questions(repeats, seed=9)
    out: dict[str, Any] = {}
    default = torch.get_num_threads()
    for n in (default, 1, default, 1):  # twice each, interleaved: the load drifts
        torch.set_num_threads(n)
        model.encode(qs[:2])
        ts = []
        for q in qs:
            t0 = time.perf_counter()
            model.encode([q])
            ts.append(time.perf_counter() - t0)
        out.setdefault(f"threads_{n}", []).extend(ts)
    torch.set_num_threads(default)
    return {k: latency_stats(v) for k, v in out.items()}


def llama(n_threads: int, n_threads_batch: int | None, max_tokens: int = 48) -> dict[str, Any]:
    from llama_cpp import Llama

    from rag.answer.llm import default_gguf

    kw: dict[str, Any] = {"n_threads": n_threads}
    if n_threads_batch is not None:
        kw["n_threads_batch"] = n_threads_batch
    llm = Llama(model_path=str(default_gguf()), n_ctx=2048, verbose=False, **kw)
    llm.create_completion("Hello", max_tokens=2)
    prompt_tokens = len(llm.tokenize(PROMPT.encode()))
    messages: Any = [{"role": "user", "content": PROMPT}]
    t0 = time.perf_counter()
    first = None
    n = 0
    for chunk in llm.create_chat_completion(
        messages=messages, max_tokens=max_tokens, stream=True, temperature=0
    ):
        delta: Any = chunk["choices"][0]["delta"]  # type: ignore[index]
        if not delta.get("content"):
            continue  # the role header, not a token
        if first is None:
            first = time.perf_counter() - t0
        n += 1
    total = time.perf_counter() - t0
    first = first or total
    del llm
    return {
        "n_threads": n_threads,
        "n_threads_batch": n_threads_batch if n_threads_batch is not None else "default (all)",
        "prompt_tokens": prompt_tokens,
        "ttft_s": round(first, 3),
        "prompt_tokens_per_s": round(prompt_tokens / first, 1),
        "generated": n,
        "gen_tokens_per_s": round((n - 1) / (total - first), 1) if total > first else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=12)
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 2
    record: dict[str, Any] = {}
    with load_window(record):
        record["minilm_query"] = torch_queries(args.repeats)
        if importlib.util.find_spec("llama_cpp") is not None:
            record["llama_cpp"] = [llama(cores, None), llama(1, 1), llama(cores, None), llama(1, 1)]
        else:  # the model runs in llama-server now: bench.llm_runtime measures it
            record["llama_cpp_skipped"] = (
                "llama-cpp-python is not installed (see bench.llm_runtime)"
            )
    write_result("threads", record)
    return record


if __name__ == "__main__":
    main()
