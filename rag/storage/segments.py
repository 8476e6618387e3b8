"""The lexical index's rows as arrays: a segment (ids, keys, term counts by row and by term, row
lengths, content-word presence), saved as .npy files and memory-mapped back, and BM25 scored from
the counts at question time when no precomputed scores fit.

Why a base and a delta instead of one precomputed score matrix (what bm25s keeps): a BM25 score
depends on every row through the collection's size, each term's document frequency and the mean
row length, so a precomputed matrix must be recomputed and rewritten whole after any change
(6.5 s of a one-document update at 1M rows: bench/results/lexical-scale-1000k-before.json). Here
an update is a small segment of new rows and a list of removed ones beside the saved base, which
stays as it is on disk (linked, not copied, into the new version's folder). A whole base (a build
or a merge) is searched on its precomputed scores, as bm25s searches; an index with a delta
scores its counts per question, with the same float steps as bm25s's builder (`term_scores`), so
every version ranks and scores bit for bit as a rebuild would. Lucene scores at query time for
the same reason. No library keeps BM25 postings this way (bm25s has only the precomputed matrix;
rank-bm25 keeps Python dicts), hence this module.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

# bm25s's defaults, as llama-index's BM25Retriever used them (language="english").
K1, B = 1.5, 0.75
SCORE_SLICE = 1 << 20  # matrix entries scored at a time (score_matrix): ~60 MB of temporaries


class Strings(Sequence[str]):
    """A read-only list of strings kept as one bytes array (memory-mapped when loaded)."""

    def __init__(self, values: Sequence[str] | np.ndarray) -> None:
        if isinstance(values, np.ndarray):
            self.array = values
        else:
            encoded = [v.encode("utf-8") for v in values]
            self.array = np.array(encoded, dtype=bytes) if encoded else np.array([], dtype="S1")

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [v.decode("utf-8") for v in self.array[i]]
        return bytes(self.array[i]).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        for v in self.array:
            yield bytes(v).decode("utf-8")


def concat_bytes(*parts: np.ndarray) -> np.ndarray:
    """Bytes arrays one after the other (as wide as the widest)."""
    filled = [np.asarray(p) for p in parts if len(p)]
    if not filled:
        return np.array([], dtype="S1")
    return np.concatenate(filled) if len(filled) > 1 else np.array(filled[0])


def encode(values: Sequence[str]) -> np.ndarray:
    return Strings(list(values)).array


def stack(
    parts: list[sparse.csr_matrix], width: int, dtype: Any, *, consume: bool = False
) -> sparse.csr_matrix:
    """The rows of `parts`, one after the other, `width` columns wide. `consume`: the parts are
    the caller's own, emptied array by array as they are copied, so that a large build holds
    its parts and one copied array at a time, not its parts and their whole copy."""
    filled = [p for p in parts if p.shape[0]]
    if not filled:
        return sparse.csr_matrix((0, width), dtype=dtype)
    if len(filled) == 1 and filled[0].dtype == dtype:
        return widen(sparse.csr_matrix(filled[0]), width)  # one part: no copy
    rows = sum(p.shape[0] for p in filled)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    at, offset = 1, 0
    for p in filled:
        indptr[at : at + p.shape[0]] = np.asarray(p.indptr[1:], dtype=np.int64) + offset
        offset += int(p.indptr[-1])
        at += p.shape[0]
    arrays = []
    for name, kind in (("data", dtype), ("indices", np.int32)):
        arrays.append(np.concatenate([np.asarray(getattr(p, name), dtype=kind) for p in filled]))
        if consume:
            for p in filled:
                setattr(p, name, np.empty(0, dtype=kind))
    if consume:
        parts.clear()
    return sparse.csr_matrix((arrays[0], arrays[1], indptr), shape=(rows, width))


def widen(m: sparse.csr_matrix, width: int) -> sparse.csr_matrix:
    """`m` with `width` columns (the vocabulary grew since it was counted)."""
    if m.shape[1] == width:
        return m
    return sparse.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))


def idf_of(n: int, df: int) -> np.float32:
    """bm25s's Lucene idf of a term in `df` of `n` rows (float32, as bm25s stores it)."""
    return np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5))) if df else np.float32(0.0)


def length_norms(lengths: np.ndarray, avg: float) -> np.ndarray:
    """Per row, the denominator's length part of BM25's term frequency, as bm25s computes it
    (float64): tf / (norm + tf) is then its tfc, bit for bit."""
    if not len(lengths):
        return np.zeros(0, dtype=np.float64)
    return K1 * ((1 - B) + B * lengths.astype(np.float64) / avg)


def term_scores(tf: np.ndarray, norms: np.ndarray, idf: np.float32) -> np.ndarray:
    """The BM25 scores of one term's postings (float32), with bm25s's arithmetic (`norms`: the
    postings' `length_norms`; in place on it, a temporary)."""
    tf64 = tf.astype(np.float64)  # counts are small integers: exact, as bm25s's float32 step
    np.add(norms, tf64, out=norms)
    np.divide(tf64, norms, out=norms)
    np.multiply(norms, np.float64(idf), out=norms)
    return norms.astype(np.float32)


def score_matrix(postings: sparse.csc_matrix, lengths: np.ndarray) -> np.ndarray:
    """bm25s's precomputed scores (Lucene BM25, k1 1.5, b 0.75) of every entry of `postings`
    (term counts by term, indices sorted), with the statistics of these rows alone: the data of
    bm25s's score matrix, computed as bm25s computes it, without its per-document Python loop."""
    n = postings.shape[0]
    avg = float(np.array(lengths).mean()) if n else 0.0
    indptr = np.asarray(postings.indptr, dtype=np.int64)
    df = np.diff(indptr)
    idf = np.zeros(len(df), dtype=np.float32)
    for d in np.unique(df):
        if d:
            idf[df == d] = idf_of(n, int(d))
    # A slice of the matrix at a time: the float64 temporaries stay a few hundred MB at any size.
    data = np.empty(postings.nnz, dtype=np.float32)
    norms = length_norms(np.asarray(lengths), avg)
    for a in range(0, len(data), SCORE_SLICE):
        b = min(a + SCORE_SLICE, len(data))
        rows = np.asarray(postings.indices[a:b], dtype=np.int64)
        cols = np.searchsorted(indptr, np.arange(a, b, dtype=np.int64), side="right") - 1
        tf64 = np.asarray(postings.data[a:b]).astype(np.float64)
        data[a:b] = (idf[cols].astype(np.float64) * (tf64 / (norms[rows] + tf64))).astype(
            np.float32
        )
    return data


def bm25_scores(counts: sparse.csr_matrix) -> dict[str, Any]:
    """bm25s's score matrix of `counts` (rows by term counts), as bm25s's `scores` holds it."""
    postings = sparse.csr_matrix(counts).tocsc()
    postings.sort_indices()
    lengths = np.asarray(counts.sum(axis=1), dtype=np.int64).ravel()
    return {
        "data": score_matrix(postings, lengths),
        "indices": postings.indices.astype(np.int32),
        "indptr": postings.indptr.astype(np.int64),
        "num_docs": postings.shape[0],
    }


def small_counts(data: np.ndarray) -> np.ndarray:
    """Term counts as 16-bit integers when they fit (they always do for real text)."""
    if len(data) == 0 or int(data.max()) <= np.iinfo(np.uint16).max:
        return np.asarray(data, dtype=np.uint16)
    return np.asarray(data)


_ARRAYS = (
    "ids",
    "keys",
    "counts_data",
    "counts_indices",
    "counts_indptr",
    "postings_data",
    "postings_indices",
    "postings_indptr",
    "content_indices",
    "content_indptr",
    "lengths",
)
SCORES = "bm25_data"  # a base's precomputed scores, valid while it is the whole index


@dataclass
class Segment:
    """Rows of the lexical index: their ids and keys, term counts by row (`counts`, to remove a
    row's terms from the statistics and to merge) and by term (`postings`, to score a question),
    row lengths, and content-word presence. A base made whole (a build, a merge) also keeps
    bm25s's precomputed `scores` of its postings, which a search reads while no row has been
    added or removed since (after that the statistics differ, and the counts are scored).
    Immutable once made; `folder` is where it was saved (a later version links those files
    instead of writing them again)."""

    ids: Strings
    keys: Strings
    counts: sparse.csr_matrix
    postings: sparse.csc_matrix
    content: sparse.csr_matrix
    lengths: np.ndarray
    scores: np.ndarray | None = field(default=None, compare=False)
    folder: Path | None = field(default=None, compare=False)
    prefix: str = field(default="", compare=False)

    @classmethod
    def of(
        cls,
        ids: Sequence[str] | np.ndarray,
        keys: Sequence[str] | np.ndarray,
        counts: sparse.csr_matrix,
        content: sparse.csr_matrix,
        *,
        scored: bool = False,
    ) -> Segment:
        """A segment of these rows; `scored`: with its precomputed scores (a whole base)."""
        ids_a = ids if isinstance(ids, np.ndarray) else encode(ids)
        keys_a = keys if isinstance(keys, np.ndarray) else encode(keys)
        counts = sparse.csr_matrix(counts)
        postings = counts.tocsc()
        postings.sort_indices()
        lengths = np.asarray(counts.sum(axis=1), dtype=np.int64).ravel()
        scores = score_matrix(postings, lengths) if scored else None
        return cls(Strings(ids_a), Strings(keys_a), counts, postings, content, lengths, scores)

    @classmethod
    def empty(cls, width: int, cwidth: int) -> Segment:
        return cls.of(
            [],
            [],
            sparse.csr_matrix((0, width), dtype=np.int32),
            sparse.csr_matrix((0, cwidth), dtype=np.int8),
        )

    @property
    def n(self) -> int:
        return len(self.ids)

    def df(self, width: int) -> np.ndarray:
        """Rows holding each term (`width` terms long)."""
        d = np.diff(np.asarray(self.postings.indptr, dtype=np.int64))
        return np.pad(d, (0, max(0, width - len(d))))[:width]

    def content_df(self, width: int) -> np.ndarray:
        return np.bincount(np.asarray(self.content.indices), minlength=width)[:width]

    def rows_df(self, rows: np.ndarray, width: int) -> np.ndarray:
        """Of `rows` only: how many hold each term."""
        if not len(rows):
            return np.zeros(width, dtype=np.int64)
        return np.bincount(np.asarray(self.counts[rows].indices), minlength=width)[:width]

    def rows_content_df(self, rows: np.ndarray, width: int) -> np.ndarray:
        if not len(rows):
            return np.zeros(width, dtype=np.int64)
        return np.bincount(np.asarray(self.content[rows].indices), minlength=width)[:width]

    def add_scores(
        self, out: np.ndarray, offset: int, term: int, norms: np.ndarray, idf: np.float32
    ) -> None:
        """Add `term`'s scores to `out` (rows from `offset`). A row holds a term once, so `+=`
        on its rows is bm25s's `np.add.at`, faster."""
        indptr = self.postings.indptr
        if term + 1 >= len(indptr):
            return  # a term counted after this segment was made
        start, end = int(indptr[term]), int(indptr[term + 1])
        if start == end:
            return
        rows = np.asarray(self.postings.indices[start:end])
        if offset:
            rows = rows + offset
        out[rows] += term_scores(np.asarray(self.postings.data[start:end]), norms.take(rows), idf)

    def add_precomputed(self, out: np.ndarray, term: int) -> None:
        """Add `term`'s precomputed scores to `out` (this segment is the whole index)."""
        assert self.scores is not None
        indptr = self.postings.indptr
        if term + 1 >= len(indptr):
            return
        start, end = int(indptr[term]), int(indptr[term + 1])
        out[np.asarray(self.postings.indices[start:end])] += self.scores[start:end]

    @property
    def width(self) -> int:
        """Terms of the vocabulary this segment was counted in (a prefix of the index's)."""
        return int(self.postings.shape[1])

    @property
    def cwidth(self) -> int:
        return int(self.content.shape[1])

    # -- on disk ---------------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "ids": self.ids.array,
            "keys": self.keys.array,
            "counts_data": small_counts(self.counts.data),
            "counts_indices": self.counts.indices,
            "counts_indptr": self.counts.indptr,
            "postings_data": small_counts(self.postings.data),
            "postings_indices": self.postings.indices,
            "postings_indptr": self.postings.indptr,
            "content_indices": self.content.indices,
            "content_indptr": self.content.indptr,
            "lengths": self.lengths,
        }

    def save(
        self, folder: Path, prefix: str, vocab: list[str] | None, cvocab: list[str] | None
    ) -> str:
        """Write the segment into `folder` as `<prefix>_*` files (with its vocabularies, when
        given). A segment saved before is hard-linked from there (its files never change);
        returns "linked" or "written"."""
        names = [*_ARRAYS, "shape"] + (["vocab", "content_vocab"] if vocab is not None else [])
        names += [SCORES] if self.scores is not None else []
        if self.folder is not None and _link_all(self.folder, self.prefix, folder, prefix, names):
            return "linked"
        arrays = self._arrays()
        if self.scores is not None:
            arrays[SCORES] = self.scores
        for name, arr in arrays.items():
            np.save(folder / f"{prefix}_{name}.npy", arr)
        shape = {"rows": self.n, "width": self.width, "cwidth": self.cwidth}
        files = {"shape": shape, "vocab": vocab, "content_vocab": cvocab}
        for name, data in files.items():
            if data is not None:
                (folder / f"{prefix}_{name}.json").write_text(json.dumps(data), encoding="utf-8")
        return "written"

    @classmethod
    def load(cls, folder: Path, prefix: str) -> Segment:
        """The segment saved in `folder` (memory-mapped); raises OSError/ValueError/KeyError
        when a file is missing or does not fit."""

        def arr(name: str) -> np.ndarray:
            return np.load(folder / f"{prefix}_{name}.npy", mmap_mode="r", allow_pickle=False)

        shape = json.loads((folder / f"{prefix}_shape.json").read_text(encoding="utf-8"))
        n, width, cwidth = int(shape["rows"]), int(shape["width"]), int(shape["cwidth"])
        ids, keys, lengths = arr("ids"), arr("keys"), arr("lengths")
        counts = sparse.csr_matrix(
            (arr("counts_data"), arr("counts_indices"), arr("counts_indptr")), shape=(n, width)
        )
        postings = sparse.csc_matrix(
            (arr("postings_data"), arr("postings_indices"), arr("postings_indptr")),
            shape=(n, width),
        )
        cindices = arr("content_indices")
        content = sparse.csr_matrix(
            (np.ones(len(cindices), dtype=np.int8), cindices, arr("content_indptr")),
            shape=(n, cwidth),
        )
        scores = arr(SCORES) if (folder / f"{prefix}_{SCORES}.npy").exists() else None
        if len(ids) != n or len(keys) != n or len(lengths) != n:
            raise ValueError(f"segment {prefix} of {folder} is not whole")
        if scores is not None and len(scores) != postings.nnz:
            raise ValueError(f"scores of segment {prefix} of {folder} do not fit it")
        return cls(
            Strings(ids), Strings(keys), counts, postings, content, lengths, scores, folder, prefix
        )

    def vocab_file(self, folder: Path, name: str) -> list[str]:
        """The vocabulary saved with this segment (`vocab` or `content_vocab`)."""
        data = json.loads((folder / f"{self.prefix}_{name}.json").read_text(encoding="utf-8"))
        want = self.width if name == "vocab" else self.cwidth
        if not isinstance(data, list) or len(data) != want:
            raise ValueError(f"{name} of segment {self.prefix} does not fit it")
        return [str(t) for t in data]


def _link_all(src: Path, src_prefix: str, dst: Path, dst_prefix: str, names: list[str]) -> bool:
    """Hard-link every file of a saved segment; False (nothing left behind) when any link fails
    (another file system, a file gone), so that the caller writes them instead."""
    made: list[Path] = []
    try:
        for name in names:
            ext = "json" if name in ("shape", "vocab", "content_vocab") else "npy"
            target = dst / f"{dst_prefix}_{name}.{ext}"
            os.link(src / f"{src_prefix}_{name}.{ext}", target)
            made.append(target)
    except OSError:
        for m in made:
            m.unlink(missing_ok=True)
        return False
    return True
