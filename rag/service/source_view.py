"""The source view: one cited document as a reader opens it, at the cited sentence.

The UI's `/document/{doc_id}` and the API's `/v1/sources/{doc_id}/view` serve this page: the
document's title, its readable source (a listing's name and date, an uploaded file's name) and its
place (page or section), then the document's own text as stored (a listed paper's abstract, not
the listing file with its page chrome; a PDF page's text; a Markdown section), read back through
rag/service/documents.py (so redacted like every face's), with the cited sentence (`?hl=`, the
citation's supporting sentence) wrapped in `<mark id="cited">`: the link carries `#cited`, so the
browser scrolls it into view without any script. A link opens the original file. The line with
the source and that link stays at the top of the view as it scrolls (sticky, opaque), and the
cited sentence lands well below it (its scroll-margin), so no line shows half hidden there.

Everything from the document and the URL is HTML-escaped; the page runs no script and loads
nothing (its Content-Security-Policy says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse

from rag.core.errors import NotFoundError, RagError
from rag.core.text import clean_display, content_tokens
from rag.ingest.library import is_html, media_type
from rag.ingest.sources import HL_CHARS, location
from rag.service.documents import DocumentText, read_document

MIN_OVERLAP = 0.5  # a sentence holding at least this share of the cited words is the one cited
# No script, nothing loaded from anywhere; inline styles only; not framed by other sites.
VIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|(?=\n)")

STYLE = """
body{font:16px/1.6 system-ui,-apple-system,Segoe UI,sans-serif;max-width:46rem;margin:2rem auto;
padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.35rem;line-height:1.3;margin:0 0 .4rem}
.meta{color:#57606a;font-size:.9rem;margin-bottom:.8rem;padding:.35rem 0;position:sticky;top:0;
z-index:1;background:#fff;border-bottom:1px solid #eaeef2}
.meta a{color:#0969da}
.doc p{margin:0 0 1rem;white-space:pre-wrap}
mark{background:#fff3a3;padding:.05em .15em;border-radius:3px;scroll-margin:40vh;
scroll-margin-top:max(40vh,5rem)}
.none{color:#57606a;font-size:.9rem}
"""


def _exact(text: str, hl: str) -> tuple[int, int] | None:
    """The span of `text` that reads as `hl`, word for word (case, spacing and punctuation
    between the words aside)."""
    words = _WORD.findall(hl)
    if not words:
        return None
    pattern = r"\W+".join(re.escape(w) for w in words[:80])
    m = re.search(pattern, text, re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def _sentences(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each sentence or line of `text`: a sentence ends at . ! or ? before
    whitespace (not inside "2.37x")."""
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() > start:
            out.append((start, m.end()))
            start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def highlight_span(text: str, hl: str) -> tuple[int, int] | None:
    """Where the cited sentence `hl` lies in `text`: the words themselves when they are there
    (a snippet is the passage's sentence, shortened), else the sentence of `text` that holds most
    of its content words (at least MIN_OVERLAP of them); None when none does."""
    hl = " ".join(hl.split())
    cut = hl.endswith("…") or len(hl) > HL_CHARS  # a shortened snippet: mark to sentence end
    hl = hl.replace("…", " ")[:HL_CHARS]
    if not hl.strip():
        return None
    found = _exact(text, hl)
    if found:
        stop = _SENTENCE_END.search(text, found[1]) if cut else None
        end = stop.end() if stop and stop.start() - found[1] < 800 else found[1]
        if end < len(text) and text[end] in ".!?":
            end += 1  # the sentence's own full stop
        return found[0], end
    wanted = content_tokens(hl)
    if not wanted:
        return None
    best: tuple[float, int, int] | None = None
    for start, end in _sentences(text):
        share = len(wanted & content_tokens(text[start:end])) / len(wanted)
        if share >= MIN_OVERLAP and (best is None or share > best[0]):
            best = (share, start, end)
    if best is None:
        return None
    start, end = best[1], best[2]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _shown(piece: str) -> str:
    """A piece of the stored text as a reader sees it everywhere else (LaTeX leftovers cleaned:
    "4.98times" -> "4.98×"), escaped, its paragraph breaks and outer spaces kept."""
    paras = [clean_display(p) for p in re.split(r"\n\s*\n", piece)]
    shown = "\n\n".join(paras)
    if piece[:1].isspace():
        shown = " " + shown
    if piece[-1:].isspace():
        shown += " "
    return escape(shown)


def _paragraphs(text: str, span: tuple[int, int] | None) -> str:
    """The text as escaped paragraphs, the span inside <mark id="cited">."""
    if span is None:
        marked = _shown(text)
    else:
        a, b = span
        marked = (
            _shown(text[:a]) + f'<mark id="cited">{_shown(text[a:b])}</mark>' + _shown(text[b:])
        )
    # Paragraph breaks (blank lines) never fall inside the mark: a span is one passage sentence.
    paras = [p.strip() for p in re.split(r"\n\s*\n", marked) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paras)


def source_view_html(doc: DocumentText, hl: str, file_url: str) -> str:
    """The page: title, readable source and place, the text with the cited sentence marked, and
    a link to the original file (`file_url`, "" for none)."""
    span = highlight_span(doc.text, hl or "")
    where = location(doc.page, doc.section)
    meta = " · ".join(escape(x) for x in (doc.label, where) if x)
    link = (
        f'<a href="{escape(file_url, quote=True)}" rel="noopener">original file ↗</a>'
        if file_url
        else ""
    )
    meta_html = " — ".join(x for x in (meta, link) if x)
    note = (
        '<p class="none">The cited sentence was not found in this document\'s text.</p>'
        if hl.strip() and span is None
        else ""
    )
    title = escape(doc.title or doc.doc_id)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f'<article><h1 id="title">{title}</h1><div class="meta">{meta_html}</div>{note}'
        f'<div class="doc">{_paragraphs(doc.text, span)}</div></article></body></html>'
    )


def find_document(stores: Iterable[Any], doc_id: str) -> DocumentText:
    """The document `doc_id` from the first of `stores` (the caller's collections' stores, None
    for one that has none here) that holds it; NotFoundError otherwise, whoever's it is."""
    for store in stores:
        if store is None:
            continue
        try:
            return read_document(store, doc_id)
        except RagError:
            continue
    raise NotFoundError(f"No indexed document {doc_id[:200]!r}.")


def original_file_response(path: Path) -> FileResponse:
    """A cited document's original file, as the API and the UI serve it: inline, never sniffed
    or cached, and HTML sandboxed (a document's script must not run as the site)."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if is_html(path):
        headers["Content-Security-Policy"] = "sandbox"
    return FileResponse(
        path,
        media_type=media_type(path),
        headers=headers,
        filename=path.name,
        content_disposition_type="inline",
    )
