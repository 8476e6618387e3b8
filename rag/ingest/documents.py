"""Reading a collection: files and folders into llama-index `Document`s.

Listing files (title line + abstract paragraph, see rag/ingest/listing.py) give one document per
paper, merged across files, labelled with the listing's own name and date. A PDF gives one document
per page (its `page` metadata, 1-based), so that a citation can say "p. 4" and open the file there.
A Markdown or HTML file with several headings gives one document per section (its `section` metadata
is the heading path, "Methods › Results"); any other .txt/.md/.html file gives one document.
Document ids are stable per file and page or section. A file that cannot be read is reported with
the reason and skipped; the rest is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core import Document

from rag.core.types import FailedFile
from rag.ingest.listing import (
    Paper,
    listing_label,
    looks_like_listing,
    merge_duplicates,
    parse_listing,
)
from rag.ingest.paths import (
    HTML_SUFFIXES,
    PDF_SUFFIXES,
    TEXT_SUFFIXES,
    Limits,
    open_found,
    walk,
)
from rag.ingest.pdf import PdfLimits, read_pdf
from rag.ingest.sources import SECTION_SEP

# Only the title joins the text that is embedded and BM25-indexed; the rest is bookkeeping.
BOOKKEEPING_KEYS = [
    "doc_id",
    "source",
    "sources",
    "paths",
    "position",
    "doc_hash",
    "n_chunks",
    "kind",
    "page",
    "section",
    "label",
]


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    ignored: list[FailedFile] = field(default_factory=list)  # left out by the walk, with why
    files: list[Path] = field(default_factory=list)
    # Each file's identity just before it was read (see `_stamp`, `changed`).
    stamps: dict[Path, tuple[int, ...] | None] = field(default_factory=dict)

    def changed(self) -> bool:
        """True when a file read has changed, been replaced or gone since: the indexer reads
        before it takes the index lock, and reads again if so once it holds it."""
        return any(_stamp(path) != stamp for path, stamp in self.stamps.items())


def _stamp(path: Path) -> tuple[int, ...] | None:
    """The file's inode, times and size (None: gone): a write or a replace changes one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def content_hash(title: str, text: str) -> str:
    return _sha(f"{title}\n{text}")[:20]


def _make_doc(
    doc_id: str,
    title: str,
    text: str,
    paths: list[Path],
    position: int,
    kind: str,
    *,
    page: int | None = None,
    section: str = "",
    label: str = "",
) -> Document:
    meta: dict[str, str | int] = {
        "doc_id": doc_id,
        "title": title,
        "source": paths[0].name,
        "sources": json.dumps([p.name for p in paths]),
        "paths": json.dumps([str(p) for p in paths]),
        "position": position,
        "doc_hash": content_hash(title, text),
        "n_chunks": 0,
        "kind": kind,
        "section": section,
        "label": label or paths[0].name,
    }
    if page is not None:
        meta["page"] = page  # Chroma keeps str/int/float only: no key rather than None
    return Document(
        text=text,
        id_=doc_id,
        metadata=meta,
        excluded_embed_metadata_keys=list(BOOKKEEPING_KEYS),
        excluded_llm_metadata_keys=[*BOOKKEEPING_KEYS, "title"],
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )


def _read_text(path: Path) -> str:
    """The file's text, read from where the walk found it (`open_found`), never through a
    folder swapped for a symlink since."""
    with open_found(path) as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e.reason} at byte {e.start})") from e


_HEADING_MARK = "\x01"  # a heading line in the text of an HTML page: mark, level, text


def _read_html(path: Path) -> tuple[str, str]:
    """The page's title and its text, its h1–h3 headings as marked lines (see `_sections`)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    body = soup.body or soup
    for h in body.find_all(["h1", "h2", "h3"]):
        heading = h.get_text(" ", strip=True)
        level = int(h.name[1])
        h.replace_with(soup.new_string(f"\n{_HEADING_MARK}{level}{heading}\n"))
    text = "\n".join(line.strip() for line in body.get_text("\n").splitlines() if line.strip())
    return title, text


# Metadata titles that name no document: a browser's blank page, an editor's default, a
# converter's "Microsoft Word - report.docx", a file path or a URL.
_PLACEHOLDER_TITLE = re.compile(
    r"^(about:blank|untitled(\s*(document|\d+))?|document\d*|title|none|null|n/?a)$"
    r"|^microsoft (word|powerpoint|excel) - "
    r"|^[a-z][a-z0-9+.-]*://|^www\."
    r"|^([a-z]:)?[\\/]|^~/|[\\/][^\s\\/]+\.[a-z0-9]{2,5}$|^[^\s]+\.(pdf|docx?|tex|pptx?|txt)$",
    re.IGNORECASE,
)
_MAX_TITLE = 200


def plausible_title(title: str) -> bool:
    """Is a PDF's metadata title a readable title (not "about:blank", "untitled", "Microsoft
    Word - …", a file path, a URL or blank)?"""
    title = " ".join(title.split())
    return bool(title) and len(title) <= _MAX_TITLE and not _PLACEHOLDER_TITLE.search(title)


def _looks_like_title(line: str) -> bool:
    """A first line that can stand as a title: short, with words, not a bare number or a URL."""
    words = re.findall(r"[^\W\d_]{2,}", line)
    return bool(words) and len(line) <= _MAX_TITLE and plausible_title(line)


def _title_of(text: str, path: Path) -> str:
    """The first heading or first non-empty line that looks like a title, else the file name."""
    for line in text.splitlines():
        line = " ".join(line.strip().lstrip("#").split())
        if line:
            if _looks_like_title(line):
                return line
            if len(line) > _MAX_TITLE:  # running text from the start: no title line
                break
    return path.stem


_MD_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
SECTION_LEVELS = 3  # h1–h3 start a section; deeper headings stay inside it


def _sections(text: str, title: str) -> list[tuple[str, str]]:
    """(heading path, text) of each section of a Markdown text or a marked HTML text, in order.

    A heading with no text of its own before the next heading joins that next section; the
    document's title (its first heading, when it is the title) is left out of the paths."""
    out: list[tuple[str, str]] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    pending: list[str] = []  # heading lines waiting for text of their own
    in_fence = False

    def flush() -> None:
        body = [ln for ln in lines if ln.strip()]
        if body:
            names = [h for _, h in path if h != title]
            out.append((SECTION_SEP.join(names), "\n".join([*pending, *lines]).strip()))
            pending.clear()
        lines.clear()

    for raw in text.splitlines():
        if _FENCE.match(raw):
            in_fence = not in_fence
        heading: tuple[int, str] | None = None
        if not in_fence:
            m = _MD_HEADING.match(raw)
            if m:
                heading = (len(m.group(1)), m.group(2).strip())
            elif raw.startswith(_HEADING_MARK) and raw[1:2].isdigit():
                heading = (int(raw[1]), raw[2:].strip())
        if heading is None or not heading[1] or heading[0] > SECTION_LEVELS:
            lines.append(raw)
            continue
        if any(ln.strip() for ln in lines):
            flush()
        else:
            pending.extend(lines)
            lines.clear()
        level, name = heading
        path = [(lv, h) for lv, h in path if lv < level] + [(level, name)]
        pending.append(name if raw.startswith(_HEADING_MARK) else raw)
    if any(ln.strip() for ln in lines):
        flush()
    return out


def _section_id(base: str, section: str, seen: set[str]) -> str:
    """A section's document id: the file's id and its heading path, stable while both are."""
    doc_id = f"{base}-s{_sha(section)[:8]}"
    n = 1
    while doc_id in seen:  # two sections with the same heading path
        n += 1
        doc_id = f"{base}-s{_sha(section)[:8]}-{n}"
    seen.add(doc_id)
    return doc_id


def _file_documents(
    path: Path, pdf_limits: PdfLimits | None = None
) -> tuple[list[Paper] | None, list[Document], str]:
    """A listing file gives papers (and the listing's label); another file gives its documents:
    one per PDF page, one per Markdown/HTML section, else one. `path` is a real path, as the walk
    found it: not resolved again, which a folder swapped for a symlink since would lead outside."""
    suffix = path.suffix.lower()
    base = "file-" + _sha(str(path))[:16]
    paths = [path]
    title = ""
    if suffix in PDF_SUFFIXES:
        with open_found(path) as f:  # read through this descriptor (see `_read_text`)
            title, pages = read_pdf(path, pdf_limits, fd=f.fileno())
        pages = [(n, t.strip()) for n, t in pages if t.strip()]
        if not pages:
            raise ValueError("no text could be extracted (empty, or a scanned PDF without text)")
        title = title if plausible_title(title) else _title_of(pages[0][1], path)
        docs = [_make_doc(f"{base}-p{n}", title, t, paths, n - 1, "file", page=n) for n, t in pages]
        return None, docs, ""
    if suffix in HTML_SUFFIXES:
        title, text = _read_html(path)
    elif suffix in TEXT_SUFFIXES:
        text = _read_text(path)
        if looks_like_listing(text):
            return parse_listing(text, str(path)), [], listing_label(text)
    else:
        raise ValueError(f"unsupported file type {suffix or '(none)'}")
    text = text.strip()
    if not text or not text.replace(_HEADING_MARK, "").strip():
        raise ValueError("no text could be extracted (empty, or a scanned PDF without text)")
    title = title or _title_of(_unmark(text), path)
    sections = _sections(text, title) if suffix != ".txt" else []
    if len(sections) <= 1:
        section = sections[0][0] if sections else ""
        plain = _unmark(sections[0][1]) if sections else _unmark(text)
        return None, [_make_doc(base, title, plain, paths, 0, "file", section=section)], ""
    seen: set[str] = set()
    docs = [
        _make_doc(
            _section_id(base, name, seen), title, _unmark(body), paths, i, "file", section=name
        )
        for i, (name, body) in enumerate(sections)
    ]
    return None, docs, ""


def _unmark(text: str) -> str:
    """HTML heading marks (see `_read_html`) back to plain heading lines."""
    return re.sub(rf"^{_HEADING_MARK}\d", "", text, flags=re.MULTILINE)


def load_documents(
    paths: Sequence[Path],
    limits: Limits | None = None,
    roots: Sequence[Path] | None = None,
    separate: Sequence[Path] = (),
    pdf_limits: PdfLimits | None = None,
) -> LoadResult:
    """Read every supported file under `paths` (see rag/ingest/paths.py for what a walk leaves out);
    papers listed in several files become one, except in a file under one of the `separate`
    folders (the uploads): its papers are its own documents, their ids scoped by the file, so an
    upload that lists a paper of the corpus under the same title neither replaces nor removes it.
    A PDF is read within `pdf_limits` (rag/ingest/pdf.py; None: unbounded), else reported."""
    found = walk([Path(p) for p in paths], limits, roots)
    result = LoadResult(ignored=found.ignored)
    papers: list[Paper] = []
    own_papers: dict[str, list[Paper]] = {}  # a separate file's papers, by its real path
    labels: dict[str, str] = {}
    apart = [_real_dir(f) for f in separate]
    for path in found.files:
        result.files.append(path)
        result.stamps[path] = _stamp(path)
        try:
            listed, docs, label = _file_documents(path, pdf_limits)
        except Exception as e:  # any reader failure: report the file, keep going
            result.failed.append(FailedFile(path=str(path), reason=failure_reason(e)))
            continue
        if listed is not None:
            real = str(path)  # the walk's real path (see `_file_documents`)
            for p in listed:
                p.sources = [real]
            if any(a == Path(real) or a in Path(real).parents for a in apart):
                own_papers[real] = listed
            else:
                papers.extend(listed)
            labels[real] = label
        result.documents.extend(docs)
    result.documents.extend(_paper_documents(merge_duplicates(papers), labels))
    for real, listed in own_papers.items():
        result.documents.extend(_paper_documents(merge_duplicates(listed), labels, scope=real))
    return result


def _real_dir(folder: Path) -> Path:
    try:
        return Path(folder).expanduser().resolve()
    except (OSError, RuntimeError):
        return Path(folder).expanduser().absolute()


def _paper_documents(
    papers: list[Paper], labels: dict[str, str] | None = None, scope: str = ""
) -> list[Document]:
    """One document per paper; its id is the hash of its title (stable across rebuilds), with
    `scope` (a separate file's real path) joined to it for a paper of that file alone."""
    docs: list[Document] = []
    seen: set[str] = set()
    key = f"{scope}\n" if scope else ""
    for p in papers:
        doc_id = "paper-" + _sha(key + p.title.strip().lower())[:16]
        if doc_id in seen:  # same title, different abstract: a different paper
            doc_id = "paper-" + _sha(key + p.title.strip().lower() + p.abstract)[:16]
        seen.add(doc_id)
        paths = [Path(s) for s in p.sources]
        label = (labels or {}).get(p.sources[0], "") if p.sources else ""
        docs.append(
            _make_doc(doc_id, p.title, p.abstract, paths, p.positions[0], "paper", label=label)
        )
    return docs


def failure_reason(error: BaseException) -> str:
    """A reader's failure in a line: llama-index wraps some in tenacity's RetryError, whose text
    ("RetryError[<Future …>]") hides the cause, so the cause is named instead."""
    last_attempt = getattr(error, "last_attempt", None)
    if last_attempt is not None and last_attempt.exception() is not None:
        error = last_attempt.exception()
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
