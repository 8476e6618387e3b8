"""llama-index's embedding interface over the onnxruntime encoder (rag/storage/onnx_encoder.py).

What indexing uses (llama-index's ingestion pipeline takes a `BaseEmbedding`). The encoder holds
the model, the session and the reasons for running it by hand; this adapter only forwards, so a
process that indexes and answers builds one session (`encoder`), and a question's path, which
calls the encoder directly, never imports llama-index.
"""

from __future__ import annotations

from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.storage.onnx_encoder import (
    OnnxEncoder,
    OnnxUnavailable,
    cache_key,
    cache_root,
    encoder,
    ensure_onnx,
    load_encoder,
    model_shape,
)

__all__ = [
    "OnnxEmbedding",
    "OnnxEncoder",
    "OnnxUnavailable",
    "cache_key",
    "cache_root",
    "ensure_onnx",
    "load_onnx_embedding",
    "model_shape",
    "shared_onnx_embedding",
]


class OnnxEmbedding(BaseEmbedding):
    """llama-index embedding over an `OnnxEncoder`."""

    _encoder: OnnxEncoder = PrivateAttr()

    def __init__(self, encoder: OnnxEncoder) -> None:
        super().__init__(model_name=encoder.model_name, embed_batch_size=encoder.embed_batch_size)
        self._encoder = encoder

    @property
    def encoder(self) -> OnnxEncoder:
        return self._encoder

    @classmethod
    def class_name(cls) -> str:
        return "OnnxEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encoder.embed([query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encoder.embed([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encoder.embed(texts) if texts else []


def load_onnx_embedding(model_dir: Path, batch_size: int, threads: int) -> OnnxEmbedding:
    """A new session of the model (not the shared one); a damaged cached file is exported
    again once."""
    return OnnxEmbedding(load_encoder(model_dir, batch_size, threads))


def shared_onnx_embedding(model_dir: Path, batch_size: int, threads: int) -> OnnxEmbedding:
    """The adapter over this process's shared session of the model (`encoder`)."""
    return OnnxEmbedding(encoder(model_dir, batch_size, threads))
