"""Turns the assistant's objects (Answer, Citation, IndexStatus) into the HTML the UI shows.

Pure functions with no Gradio import, so the page's look is testable on its own. Everything that
comes from the collection or the LLM is HTML-escaped before it is wrapped in markup.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from html import escape
from typing import Any

from rag.core.types import Answer, Citation, ConversationSummary, IndexReport, IndexStatus, Passage
from rag.ingest.sources import (
    by_paper,
    document_url,
    file_name,
    higher_level,
    location,
    relative_level,
    relevance,
    relevance_level,
    source_name,
    source_place,
)

_MARKER = re.compile(r"\[(\d+)\]")
SNIPPET_CHARS = 320


def source_anchor(key: str | int, number: int) -> str:
    """The id of a citation's card in the Sources panel, unique per answer (`key`), so that a
    card of another answer never takes its highlight."""
    return f"src-{key}-{number}"


def _short(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def display_numbers(answer: Answer) -> dict[int, int]:
    """The number a reader sees for each cited [n]: 1, 2, 3 … in the order the text cites them,
    then any citation the text does not mark, so there is never a gap."""
    cited = {c.number for c in answer.citations}
    order = [int(n) for n in _MARKER.findall(answer.text)] + [c.number for c in answer.citations]
    shown: dict[int, int] = {}
    for n in order:
        if n in cited and n not in shown:
            shown[n] = len(shown) + 1
    return shown


def link_markers(
    text: str, citations: list[Citation], key: str | int, numbers: dict[int, int] | None = None
) -> str:
    """Escape the answer and turn each [n] into a link to its card, titled with the paper and
    where in it; `numbers` renumbers them as the reader sees them."""
    by_number = {c.number: c for c in citations}
    numbers = numbers or {c.number: c.number for c in citations}

    def _link(m: re.Match[str]) -> str:
        c = by_number.get(int(m.group(1)))
        if c is None:  # the citation check guarantees this does not happen; show it as text
            return m.group(0)
        shown = numbers.get(c.number, c.number)
        where = source_place(c, " · ")
        title = escape(f"{c.title} — {where}", quote=True)
        href = source_anchor(key, shown)
        return f'<a class="cite" href="#{href}" title="{title}">[{shown}]</a>'

    return _MARKER.sub(_link, escape(text, quote=False))


def pending_message(status: str = "Searching the collection…") -> str:
    """What the chat shows until the checked answer is there (never an unchecked draft)."""
    return f'<div class="pending">{escape(status[:1].upper() + status[1:])}</div>'


def answer_message(answer: Answer, key: str | int) -> str:
    """The final chat bubble: the checked answer with linked [n] markers, or an abstention."""
    if answer.abstained:
        return abstention_message(answer, key)
    numbers = display_numbers(answer)
    body = _lines_html(
        [link_markers(line, answer.citations, key, numbers) for line in answer.text.splitlines()]
    )
    parts = [f'<div class="answer">{body}</div>']
    if answer.citations:
        items = "".join(
            f'<li><a href="#{source_anchor(key, numbers[c.number])}">[{numbers[c.number]}]</a> '
            f"{escape(c.title)}{_where_suffix(c)}</li>"
            for c in sorted(answer.citations, key=lambda c: numbers[c.number])
        )
        parts.append(f'<ul class="src-foot">{items}</ul>')
    return "".join(parts)


def _lines_html(lines: list[str]) -> str:
    """An answer's lines: the lead and its sentences as paragraphs, "- " lines (one per paper of
    a list or side of a comparison) as a list."""
    out: list[str] = []
    items: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("- "):
            items.append(f"<li>{line[2:]}</li>")
            continue
        if items:
            out.append(f'<ul class="answer-items">{"".join(items)}</ul>')
            items = []
        if line.strip():
            out.append(f"<p>{line}</p>")
    return "".join(out)


def _where_suffix(c: Citation) -> str:
    where = location(c.page, c.section)
    return f' <span class="muted">({escape(where)})</span>' if where else ""


def abstention_message(answer: Answer, key: str | int = 0) -> str:
    """A notice, styled apart from answers, with the closest passages as related reading: "Not
    stated" when the paper is there but does not give what was asked, else "Not in the
    collection". The heading is said once (the text's own "Not stated: " lead is dropped), and
    a cited paper is not listed again as related reading."""
    cited = {c.doc_id or c.title for c in answer.citations}
    related = "".join(
        f"<li>{escape(p.title)} <span class='muted'>({escape(source_name(p))})</span></li>"
        for p in [p for p in by_paper(answer.passages) if (p.doc_id or p.title) not in cited][:3]
    )
    reading = f'<div class="related">Related reading:<ul>{related}</ul></div>' if related else ""
    title = "Not stated" if answer.not_stated == "attribute" else "Not in the collection"
    text = answer.text
    for said in ("Not stated", "Not in the collection"):
        if text.lower().startswith(said.lower() + ":"):
            text = text[len(said) + 1 :].lstrip()
            text = text[:1].upper() + text[1:]
            break
    body = link_markers(text, answer.citations, key, display_numbers(answer))
    return (
        f'<div class="abstain"><div class="abstain-title">{title}</div>'
        f"<div>{body}</div>{reading}</div>"
    )


def error_message(message: str) -> str:
    """An expected failure (LLM down, empty question…), shown as a chat message."""
    return f'<div class="error-msg"><strong>Could not answer.</strong> {escape(message)}</div>'


def _relevance_html(
    question: str, passage: Passage | None, score: float, best: float | None = None
) -> str:
    """high / medium / low with a bar, from the passage's evidence score and, with `best` (the
    best retrieved passage's ranking score), the higher of that and its score relative to the
    best (the passage that answers reads high); raw scores on hover."""
    if passage is None:
        return f'<span class="src-score" title="retrieval score {score:.3f}"></span>'
    value = relevance(question, passage)
    level = relevance_level(value)
    share = value
    detail = f"evidence {value:.2f}"
    if passage.vector_score is not None:
        detail += f" (similarity {passage.vector_score:.2f})"
    detail += f"; retrieval score {score:.3f}"
    if best and best > 0:
        level = higher_level(level, relative_level(score, best))
        share = max(value, score / best)
        detail += f", {min(1.0, score / best):.0%} of the best passage's"
    width = max(8, round(100 * min(1.0, share)))
    return (
        f'<span class="src-score rel-{level}" title="{escape(detail, quote=True)}">'
        f'<span class="rel-bar"><span style="width:{width}%"></span></span>{level}</span>'
    )


def _card(
    anchor: str,
    badge: int,
    src: Citation | Passage,
    question: str,
    passage: Passage | None,
    snippet: str,
    full: str,
    best: float | None = None,
) -> str:
    more = ""
    if full and _short(full, 10_000) != snippet:
        more = f"<details><summary>Full passage</summary><p>{escape(full)}</p></details>"
    where = location(src.page, src.section)
    url = document_url(src)
    name = escape(source_name(src))
    hover = escape(f"{file_name(src.source)}" + (f", {src.section}" if src.section else ""), True)
    opener = ""
    if url:
        # "Show source" opens the source view in the page's source panel (rag/ui/app.py
        # SOURCE_PANEL_JS); the link opens the same URL in a new tab.
        label = f"Open {where}" if where else "Open"
        opener = (
            f'<button type="button" class="src-show" data-view="{escape(url, quote=True)}" '
            'aria-controls="source-panel">Show source</button>'
            f'<a class="src-open" href="{escape(url, quote=True)}" target="_blank" '
            f'rel="noopener" title="Opens in a new tab">{escape(label)} in new tab ↗</a>'
        )
    where_html = f'<span class="src-where">{escape(where)}</span>' if where else ""
    return (
        f'<div class="src-card" id="{anchor}">'
        f'<div class="src-head"><span class="src-num">{badge}</span>'
        f'<span class="src-title">{escape(src.title)}</span></div>'
        f'<div class="src-meta"><span class="src-file" title="{hover}">{name}</span>'
        f"{where_html}{_relevance_html(question, passage, src.score, best)}</div>"
        f'<blockquote class="src-snippet">{escape(snippet)}</blockquote>'
        f'<div class="src-actions">{opener}</div>{more}</div>'
    )


def sources_panel(answer: Answer | None, key: str | int = 0, ordinal: int = 0) -> str:
    """The Sources panel: a card per citation (numbered as the reader sees them), or the
    related passages of an abstention. `key` makes the card ids unique to this answer;
    `ordinal` is its place in the chat (0 for the first)."""
    if answer is None:
        return (
            '<div class="sources empty">Sources appear here: every <span class="cite">[n]</span> '
            "in an answer points to a card with the paper's title, where it comes from (page "
            "or section), the supporting snippet, how relevant it is, and the document itself, "
            "shown below the chat at the cited sentence (or in a new tab).</div>"
        )
    question = answer.standalone_question or answer.question
    passages = {p.number: p for p in answer.passages if p.number}
    # An answer's sources read against the best retrieved passage; an abstention's do not (its
    # best passage does not answer).
    best = None if answer.abstained else max((p.score for p in answer.passages), default=None)
    if not answer.citations:
        cards = "".join(
            _card(source_anchor(key, i), i, p, question, p, _short(p.text), p.text, best)
            for i, p in enumerate(by_paper(answer.passages), 1)
        )
        head = "Related passages (not cited)" if answer.abstained else "Retrieved passages"
        return f'<div class="sources related-list"><div class="src-h">{head}</div>{cards}</div>'
    numbers = display_numbers(answer)
    cards = "".join(
        _card(
            source_anchor(key, numbers[c.number]),
            numbers[c.number],
            c,
            question,
            passages.get(c.number),
            _short(c.snippet),
            passages[c.number].text if c.number in passages else "",
            best,
        )
        for c in sorted(answer.citations, key=lambda c: numbers[c.number])
    )
    head = f'<div class="src-h">Sources of answer {ordinal + 1}</div>'
    return f'<div class="sources">{head}{cards}</div>'


def conversation_label(c: ConversationSummary, now: float | None = None) -> str:
    """A saved conversation in the sidebar: its title and when it was last used."""
    when = datetime.fromtimestamp(c.updated)
    today = datetime.fromtimestamp(now) if now is not None else datetime.now()
    stamp = when.strftime("%H:%M") if when.date() == today.date() else when.strftime("%b %d")
    if when.year != today.year:
        stamp = when.strftime("%b %d %Y")
    return f"{c.title} · {stamp}"


def conversation_labels(convs: list[ConversationSummary], now: float | None = None) -> list[str]:
    """The sidebar's labels (conversation_label), told apart: two conversations that would read
    the same (the same first question, the same minute) get " (2)", " (3)" … from the oldest."""
    labels = [conversation_label(c, now) for c in convs]
    seen: dict[str, int] = {}
    out = [""] * len(labels)
    for i in reversed(range(len(labels))):  # the list is newest first; count from the oldest
        n = seen[labels[i]] = seen.get(labels[i], 0) + 1
        out[i] = labels[i] if n == 1 else f"{labels[i]} ({n})"
    return out


def feedback_note(message: str) -> str:
    return f'<div class="fb-note">{escape(message)}</div>'


def status_markdown(status: IndexStatus) -> str:
    """Index status for the side panel."""
    built = (status.last_build or "never").replace("T", " ")[:19]
    lines = [
        f"**{status.documents}** documents · **{status.chunks}** chunks",
        f"Last build: {built}",
    ]
    if status.embedding_model:
        lines.append(f"Embeddings: `{status.embedding_model}`")
    return "  \n".join(lines)


def report_markdown(report: IndexReport) -> str:
    text = f"Re-indexed: {report.summary()}"
    for f in report.failed[:5]:
        text += f"  \nskipped `{file_name(f.path)}`: {f.reason}"
    return text


_MARK = {"added": "✓", "updated": "✓", "unchanged": "=", "failed": "✗"}


def upload_report(files: list[Any], report: IndexReport) -> str:
    """What became of each uploaded file (added / updated / unchanged / failed with the
    reason), then the index run's own counts. `files` are `rag.ingest.library.FileOutcome`s."""
    lines = [f'<div class="upload-report" data-run="{uuid.uuid4().hex[:8]}">']
    for f in files:
        what = f.status
        if f.status in ("added", "updated"):
            parts = [f"{f.pages} pages" if f.pages else "", f"{f.chunks} chunks"]
            what += ": " + ", ".join(p for p in parts if p)
        elif f.status == "failed":
            what += f": {f.reason}"
        lines.append(
            f'<div class="up-{f.status}"><span class="up-mark">{_MARK[f.status]}</span> '
            f"<strong>{escape(f.name)}</strong> — {escape(what)}</div>"
        )
    r = report
    lines.append(
        f'<div class="up-summary">Index: added {r.added}, updated {r.updated}, skipped '
        f"{r.skipped} unchanged, failed {len(r.failed)}; {r.chunks_embedded} chunks embedded in "
        f"{r.seconds:.1f}s. Collection: {r.documents} documents, {r.chunks} chunks.</div>"
    )
    for fl in r.flagged[:5]:
        lines.append(
            f'<div class="up-flagged">Excluded (addresses the model): “{escape(fl.sentence)}”</div>'
        )
    lines.append("</div>")
    return "".join(lines)


def upload_error(message: str) -> str:
    run = uuid.uuid4().hex[:8]  # a new report is told from the last one, even with the same text
    return (
        f'<div class="upload-report" data-run="{run}"><div class="up-failed">'
        f"{escape(message)}</div></div>"
    )


def upload_note(message: str) -> str:
    run = uuid.uuid4().hex[:8]
    return (
        f'<div class="upload-report" data-run="{run}"><div class="up-deleted">'
        f"{escape(message)}</div></div>"
    )


def document_choice(d: Any) -> tuple[str, str]:
    """A stored upload in the document list: (what the reader sees, its id)."""
    parts = [
        f"{d.pages} pages" if d.pages else "",
        f"{d.chunks} chunks" if d.chunks else "not indexed",
        "still being indexed" if not getattr(d, "complete", True) else "",
    ]
    title = f"{d.title} — " if d.title and d.title != d.id else ""
    return f"{title}{d.id} ({', '.join(p for p in parts if p)})", d.id
