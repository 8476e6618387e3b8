"""Process-wide switches that keep the assistant offline; imported first by `rag/__init__.py`.

Gradio and huggingface_hub phone home by default; chromadb sends telemetry. None of that may
happen here, so the project sets the switches itself instead of relying on the caller's shell.
"""

import os

_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # transformers draws a "Loading weights" bar each time a process loads MiniLM: noise on every
    # `rag ask`. The project's own bars (indexing, eval) are plain tqdm and stay.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # OpenMP threads sleep instead of spinning while idle: with the LLM on the same 2 cores,
    # spinning made one question's embedding 6x slower (bench/results/SUMMARY.md).
    "OMP_WAIT_POLICY": "PASSIVE",
}

for _key, _value in _DEFAULTS.items():
    os.environ.setdefault(_key, _value)
