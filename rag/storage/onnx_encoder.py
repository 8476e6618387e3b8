"""A sentence-transformers model (BERT-style, mean pooling) run by onnxruntime, without llama-index.

Why by hand: no maintained library runs a local sentence-transformers folder in onnxruntime
offline and cheaply. fastembed and chromadb's `ONNXMiniLM_L6_V2` download their ONNX files (no
internet here), and chromadb's pads every input to 256 tokens, so a 15-token question would cost
as much as a full passage; sentence-transformers' own ONNX backend imports torch, transformers and
scikit-learn, which is the start-up time this module exists to avoid. What is left is small: the
model's tokenizer (`tokenizers`, from its tokenizer.json), one session, mean pooling, L2 norm.
The vectors equal sentence-transformers' to about 1e-7 (tests/storage/test_embeddings.py), so a
collection indexed with either runtime is queried with the other.

The ONNX file is exported from the model's weights once, with torch (`make setup` runs
`python -m rag.storage.embeddings`; otherwise the first use), and cached under
`$RAG_CACHE_DIR` (default `~/.cache/rag-assistant`)`/onnx/`, keyed by the model's files.

`OnnxEncoder` is the model itself, with the calls of llama-index's `BaseEmbedding` that a question
needs (`get_query_embedding`, `get_text_embedding_batch`), and nothing of llama-index: a question's
process does not import llama-index (1.6 s of a new process's imports, bench/results/
cold_start.json). Indexing wraps the same encoder in llama-index's interface
(rag/storage/onnx_embedding.py), so the session is built once per process (`encoder`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.locking import index_lock

log = logging.getLogger(__name__)

EXPORT_FORMAT = "1"  # part of the cache key: bump when the export below changes
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxUnavailable(Exception):
    """This model cannot run in onnxruntime here; the caller falls back to torch."""


def cache_root() -> Path:
    base = os.environ.get("RAG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "rag-assistant"
    )
    return Path(base) / "onnx"


def _read_json(path: Path) -> Any:
    """The file's JSON, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _json_dict(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    return data if isinstance(data, dict) else {}


def model_shape(model_dir: Path) -> tuple[int, bool]:
    """(max tokens, normalised?) of a mean-pooling sentence-transformers folder, or refuse it."""
    listed = _read_json(model_dir / "modules.json")
    modules = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    pooling = next((m["path"] for m in modules if m.get("type", "").endswith("Pooling")), None)
    pool_cfg = _json_dict(model_dir / pooling / "config.json") if pooling else {}
    if kinds[:2] != ["Transformer", "Pooling"] or not pool_cfg.get("pooling_mode_mean_tokens"):
        raise OnnxUnavailable(f"{model_dir.name}: not a mean-pooling sentence-transformers model")
    if any(
        pool_cfg.get(k)
        for k in pool_cfg
        if k.startswith("pooling_mode_") and "mean_tokens" not in k
    ):
        raise OnnxUnavailable(f"{model_dir.name}: pooling other than a plain mean")
    if set(kinds) - {"Transformer", "Pooling", "Normalize"}:
        raise OnnxUnavailable(f"{model_dir.name}: modules beyond transformer, pooling, normalize")
    max_len = int(_json_dict(model_dir / "sentence_bert_config.json").get("max_seq_length") or 512)
    return max_len, "Normalize" in kinds


def cache_key(model_dir: Path) -> str:
    """Changes when the model's files change: config and tokenizer bytes, weights' size."""
    h = hashlib.sha256(EXPORT_FORMAT.encode())
    for name in ("config.json", "tokenizer.json", "modules.json"):
        f = model_dir / name
        h.update(f.read_bytes() if f.exists() else b"-")
    for weights in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{model_dir.parent.name}-{model_dir.name}-{h.hexdigest()[:16]}"


def _export(model_dir: Path, target: Path) -> None:
    """Trace the transformer to ONNX (torch's TorchScript exporter; needs torch and onnx)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise OnnxUnavailable(f"exporting needs torch and transformers: {exc}") from exc

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    model = LastHidden(AutoModel.from_pretrained(str(model_dir)).eval())
    sample = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on graph details, not for the reader
            torch.onnx.export(
                model,
                (sample, sample, torch.zeros_like(sample)),
                str(target),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:  # the exporter raises many kinds; any means "use torch"
        raise OnnxUnavailable(f"the ONNX export failed: {exc}") from exc


def ensure_onnx(model_dir: Path) -> Path:
    """The cached ONNX file for `model_dir`, exported first if missing (once across processes)."""
    model_shape(model_dir)
    folder = cache_root() / cache_key(model_dir)
    target = folder / "model.onnx"
    if target.exists():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with index_lock(folder / ".export.lock", timeout_s=600):
            if target.exists():  # another process exported it while this one waited
                return target
            log.info("Preparing the embedding model for onnxruntime (once): %s", target)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".onnx.part")
            os.close(fd)
            try:
                _export(model_dir, Path(tmp))
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)  # whole or absent: a killed export leaves no model.onnx
            finally:
                Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        raise OnnxUnavailable(f"cannot write the ONNX cache {folder}: {exc}") from exc
    return target


class OnnxEncoder:
    """The model's tokenizer and one onnxruntime session; see the module docstring."""

    def __init__(self, model_dir: Path, onnx_file: Path, batch_size: int, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_name = str(model_dir)
        self.embed_batch_size = batch_size
        max_len, self._normalize = model_shape(model_dir)
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_len)
        tokenizer.enable_padding()  # to the longest text of each batch, as sentence-transformers
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings are about graph details
        # Idle threads sleep instead of spinning: the LLM shares these cores (cf. rag/_offline.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a damaged cache file: onnxruntime raises its own types
            raise OnnxUnavailable(f"cannot load {onnx_file}: {exc}") from exc

    def embed(self, texts: list[str]) -> list[list[float]]:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self._normalize:
            vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        return vectors.astype(np.float32).tolist()  # type: ignore[no-any-return]

    # llama-index's `BaseEmbedding` calls, same results (its batching: `embed_batch_size` texts
    # a call, in order), without its callback and instrumentation wrappers.

    def get_query_embedding(self, query: str) -> list[float]:
        return self.embed([query])[0]

    def get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[list[float]]:
        out: list[list[float]] = []
        step = max(1, self.embed_batch_size)
        for i in range(0, len(texts), step):
            out.extend(self.embed(list(texts[i : i + step])))
        return out


_encoders: dict[tuple[str, int, int], OnnxEncoder] = {}
_encoders_lock = threading.Lock()


def encoder(model_dir: Path, batch_size: int, threads: int) -> OnnxEncoder:
    """The model in onnxruntime, one session per process and model (shared by the question's
    path and indexing); a damaged cached file is exported again once."""
    key = (str(model_dir), batch_size, threads)
    with _encoders_lock:
        found = _encoders.get(key)
        if found is None:
            found = _encoders[key] = load_encoder(model_dir, batch_size, threads)
        return found


def load_encoder(model_dir: Path, batch_size: int, threads: int) -> OnnxEncoder:
    """A new session of the model (see `encoder`)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailable("onnxruntime is not installed") from exc
    onnx_file = ensure_onnx(model_dir)
    try:
        return OnnxEncoder(model_dir, onnx_file, batch_size, threads)
    except OnnxUnavailable:
        log.warning("The cached ONNX model %s is unreadable; exporting it again", onnx_file)
        onnx_file.unlink(missing_ok=True)
        return OnnxEncoder(model_dir, ensure_onnx(model_dir), batch_size, threads)
