"""What a reader is told about a source: a readable name, where in the document, how relevant.

Pure functions over the stored metadata and the `Passage`/`Citation` types, shared by every face:

- `stored_label`: the source's readable name (a listing's own name and date, "Daily Papers · Aug
  8", rather than its hashed file name; an uploaded file's name); for an index built before labels
  were stored, it is read from the listing's first lines.
- `by_paper`: one passage per paper, the best first.
- `location`: "p. 4" for a PDF page, "§ Results" for a Markdown/HTML section; `source_place`
  the readable name and the location together, as the CLI and Slack list a source.
- `relevance`: the evidence score of one passage for the question (the same measure the
  off-topic check uses: the mean of its cosine similarity and the share of the question's words it
  holds, here unweighted), and `relevance_level` its reading as high / medium / low (thresholds
  from eval/dev.jsonl, see HIGH and MEDIUM); `relative_level` reads a passage's ranking score
  against the best retrieved passage's (the passage that answers reads high), and the UI shows
  the higher of the two for an answer's sources. Raw retrieval scores (0.03, 1.06…) rank
  passages but mean nothing to a reader: they are shown on hover only.
- `document_url`: the UI's link to the source view of a document (rag/service/source_view.py:
  its text as stored, the cited sentence marked, `?hl=…#cited`); `original_url` the original file
  (`#page=N` for a PDF).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rag.core.text import content_tokens
from rag.core.types import Citation, Passage
from rag.ingest.listing import listing_label

DOCUMENT_ROUTE = "/document"
# On the first 40 questions of eval/dev.jsonl the first passage (almost always the right paper)
# scores 0.43–0.75 (median 0.66) and the 2nd–5th 0.13–0.53 (median 0.35).
HIGH = 0.60  # at or above: "high"
MEDIUM = 0.45  # below: "low"
# Relative to the best passage of the same retrieval: on the dev questions the answering paper
# ranks first (share 1.0) and the next ones score 0.5–0.8 of it.
REL_HIGH = 0.8
REL_MEDIUM = 0.5
SECTION_SEP = " › "


def _paths(meta: dict[str, Any]) -> list[str]:
    try:
        out = json.loads(str(meta.get("paths") or "[]"))
    except ValueError:
        return []
    return [str(p) for p in out] if isinstance(out, list) else []


@lru_cache(maxsize=256)
def _listing_label_of(path: str, mtime: float) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return ""
    return listing_label(head)


def stored_label(meta: dict[str, Any]) -> str:
    """The readable name of a chunk's source (see the module docstring)."""
    label = str(meta.get("label") or "")
    if label:
        return label
    paths = _paths(meta)
    if meta.get("kind") == "paper" and paths:
        try:
            mtime = Path(paths[0]).stat().st_mtime
        except OSError:
            mtime = 0.0
        found = _listing_label_of(paths[0], mtime)
        if found:
            return found
    return str(meta.get("source") or "")


def stored_page(meta: dict[str, Any]) -> int | None:
    page = meta.get("page")
    if isinstance(page, int | float) and not isinstance(page, bool) and page >= 1:
        return int(page)
    return None


def location(page: int | None, section: str) -> str:
    """Where in its document a source lies, as a reader writes it."""
    if page:
        return f"p. {page}"
    if section:
        return f"§ {section.split(SECTION_SEP)[-1]}"
    return ""


def file_name(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def source_name(src: Citation | Passage) -> str:
    """The readable name of a source: its label (a listing's own name and date, an uploaded
    file's name), else its file name."""
    return src.label or file_name(src.source)


def source_place(src: Citation | Passage, sep: str = ", ") -> str:
    """A source as a reader is told it: its readable name, then its page or section ("Daily
    Papers · Aug 8", "report.pdf, p. 4"), never its hashed stored file name when it has a label."""
    return sep.join(x for x in (source_name(src), location(src.page, src.section)) if x)


def relevance(question: str, passage: Passage) -> float:
    """The evidence score of one passage for `question` (0–1): the mean of its cosine similarity
    and the share of the question's content words it holds (title included)."""
    asked = content_tokens(question)
    held = asked & content_tokens(f"{passage.title} {passage.text}")
    words = len(held) / len(asked) if asked else 0.0
    vector = passage.vector_score or 0.0
    return max(0.0, min(1.0, 0.5 * vector + 0.5 * words))


def relevance_level(score: float) -> str:
    if score >= HIGH:
        return "high"
    if score >= MEDIUM:
        return "medium"
    return "low"


def relative_level(score: float, best: float) -> str:
    """high / medium / low from a passage's ranking score (fused, or reranked) as a share of
    the best retrieved passage's: the passage that answers reads high, one ranked well below it
    medium or low (REL_HIGH, REL_MEDIUM)."""
    if best <= 0:
        return "low"
    share = score / best
    return "high" if share >= REL_HIGH else "medium" if share >= REL_MEDIUM else "low"


_LEVELS = ("low", "medium", "high")


def higher_level(a: str, b: str) -> str:
    return max(a, b, key=_LEVELS.index)


HL_CHARS = 400  # the most of a cited sentence a link to the source view carries


def cited_text(src: Citation | Passage) -> str:
    """What a link to the source view highlights: a citation's supporting sentence (the passage
    sentence its claim rests on, rag/answer/citations.py), else its snippet; a passage's start."""
    if isinstance(src, Citation):
        return src.sentence or src.snippet
    return src.text[:HL_CHARS]


def view_query(sentence: str) -> str:
    """`?hl=<the sentence>#cited`: what a link to the source view (rag/service/source_view.py)
    adds so that it opens with that sentence marked and scrolled into view."""
    hl = " ".join(sentence.split())
    if len(hl) > HL_CHARS:
        hl = hl[: HL_CHARS - 1].rstrip() + "…"  # cut: the view marks the sentence to its end
    return f"?hl={quote(hl, safe='')}#cited" if hl.strip("… ") else ""


def document_url(source: Citation | Passage) -> str:
    """The UI's link that opens a source's document in the source view, at the cited sentence;
    "" without a document id."""
    if not source.doc_id:
        return ""
    return f"{DOCUMENT_ROUTE}/{quote(source.doc_id, safe='')}{view_query(cited_text(source))}"


def original_url(doc_id: str, page: int | None = None, route: str = DOCUMENT_ROUTE) -> str:
    """The link to the original file of a document (`/file` of the UI's document route), at its
    page for a PDF."""
    where = f"#page={page}" if page else ""
    return f"{route}/{quote(doc_id, safe='')}/file{where}"


def by_paper(passages: list[Passage]) -> list[Passage]:
    """The best passage of each paper (document), in the order given: a paper is listed once
    however many of its chunks were retrieved."""
    seen: set[str] = set()
    out = []
    for p in passages:
        key = p.doc_id or p.title
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
