"""The onnxruntime embedding gives sentence-transformers' vectors, is exported once, and recovers.

Real parts: the packaged MiniLM exported by torch's exporter into a temporary cache, run by
onnxruntime, compared with the same model in sentence-transformers (torch).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.storage.embeddings import _torch, resolve_local_model
from rag.storage.onnx_embedding import OnnxEmbedding, ensure_onnx, load_onnx_embedding

MODEL = Path(resolve_local_model("all-MiniLM-L6-v2"))
TEXTS = [
    "Speculative decoding drafts tokens with a small model and verifies them with the large one.",
    "KV cache",
    # longer than the model's 256 tokens: both runtimes must cut it at the same place
    " ".join(["Quantization of activations and weights to four bits with outlier channels."] * 40),
    "Wie viele Parameter hat das größte Modell? ¿Cuántos? 参数",
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("onnx-cache")
    old = os.environ.get("RAG_CACHE_DIR")
    os.environ["RAG_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("RAG_CACHE_DIR", None)
    else:
        os.environ["RAG_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def onnx_model(cache: Path) -> OnnxEmbedding:
    return load_onnx_embedding(MODEL, batch_size=3, threads=1)


def test_same_vectors_as_sentence_transformers(onnx_model: OnnxEmbedding) -> None:
    reference = np.array(_torch("all-MiniLM-L6-v2", 3).get_text_embedding_batch(TEXTS))
    # batches of 3 mix a short, a 2-word and a truncated text: padding must not leak in
    ours = np.array(onnx_model.get_text_embedding_batch(TEXTS))
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(ours - reference).max() < 1e-4
    query = np.array(onnx_model.get_query_embedding(TEXTS[0]))
    assert np.abs(query - reference[0]).max() < 1e-4  # alone (no padding) = in a batch
    assert abs(np.linalg.norm(query) - 1.0) < 1e-5


def test_exported_once_and_reused(cache: Path, onnx_model: OnnxEmbedding) -> None:
    files = list(cache.glob("onnx/*/model.onnx"))
    assert len(files) == 1
    before = files[0].stat().st_mtime_ns
    assert ensure_onnx(MODEL) == files[0]
    assert files[0].stat().st_mtime_ns == before
    assert not list(cache.glob("onnx/*/*.part"))  # no half-written export left beside it


def test_a_damaged_cache_file_is_exported_again(cache: Path, onnx_model: OnnxEmbedding) -> None:
    (onnx_file,) = cache.glob("onnx/*/model.onnx")
    onnx_file.write_bytes(b"not a model")  # e.g. a disk that filled up under someone else's copy
    model = load_onnx_embedding(MODEL, batch_size=3, threads=1)
    assert onnx_file.stat().st_size > 10_000_000
    assert np.allclose(
        model.get_query_embedding("KV cache"), onnx_model.get_query_embedding("KV cache")
    )


def test_a_new_process_answers_without_importing_torch(
    cache: Path, onnx_model: OnnxEmbedding
) -> None:
    """The point of the runtime: a process that only embeds never loads torch or transformers."""
    code = (
        "import sys\n"
        "from rag.storage.embeddings import make_embedding\n"
        "from rag.core.settings import EmbeddingSettings\n"
        "m = make_embedding(EmbeddingSettings())\n"
        "assert type(m).__name__ == 'OnnxEmbedding', type(m)\n"
        "assert len(m.get_query_embedding('KV cache')) == 384\n"
        "print(sorted(n for n in ('torch', 'transformers', 'sklearn') if n in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAG_CACHE_DIR": str(cache)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_torch_runtime_still_selectable() -> None:
    from rag.core.settings import EmbeddingSettings
    from rag.storage.embeddings import make_embedding

    model = make_embedding(EmbeddingSettings(runtime="torch"))
    assert type(model).__name__ == "HuggingFaceEmbedding"


def test_texts_embedded_before_are_not_embedded_again(onnx_model: OnnxEmbedding) -> None:
    """`TextVectors`: a text's vector is the model's (batch composition aside, within float32
    rounding), embedded once, the least recently used leaving first beyond its size."""
    from rag.storage.embeddings import TextVectors

    calls: list[list[str]] = []

    def encode(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return onnx_model.get_text_embedding_batch(texts)

    vectors = TextVectors(encode, size=3)
    first = vectors(TEXTS[:2])
    direct = onnx_model.get_text_embedding_batch(TEXTS[:2])
    assert np.allclose(np.asarray(first), np.asarray(direct), atol=1e-5)
    again = vectors([TEXTS[1], TEXTS[0], TEXTS[1]])  # held: no model call, in the asked order
    assert calls == [TEXTS[:2]]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    vectors([TEXTS[2], TEXTS[3]])  # only these two are embedded; TEXTS[1] was used least lately
    assert calls[-1] == [TEXTS[2], TEXTS[3]] and len(vectors) == 3
    n = len(calls)
    vectors([TEXTS[0]])  # still held
    assert len(calls) == n
    vectors([TEXTS[1]])  # left, embedded again
    assert calls[-1] == [TEXTS[1]]
