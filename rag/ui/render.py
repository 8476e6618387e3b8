"""Turns the assistant's objects (Answer, Citation, IndexStatus) into the HTML the UI shows.

Pure functions with no Gradio import, so the page's look is testable on its own. Everything that
comes from the collection or the LLM is HTML-escaped before it is wrapped in markup.
"""

from __future__ import annotations

import re
from html import escape

from rag.types import Answer, Citation, IndexReport, IndexStatus, Passage

_MARKER = re.compile(r"\[(\d+)\]")
SNIPPET_CHARS = 320


def source_anchor(turn: int, number: int) -> str:
    """The id of a citation's card in the Sources panel (unique per turn of the chat)."""
    return f"src-{turn}-{number}"


def _short(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _file_name(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def link_markers(text: str, citations: list[Citation], turn: int) -> str:
    """Escape the answer and turn each [n] into a link to its card, titled with the paper."""
    by_number = {c.number: c for c in citations}

    def _link(m: re.Match[str]) -> str:
        c = by_number.get(int(m.group(1)))
        if c is None:  # the citation check guarantees this does not happen; show it as text
            return m.group(0)
        title = escape(f"{c.title} — {_file_name(c.source)}", quote=True)
        href = source_anchor(turn, c.number)
        return f'<a class="cite" href="#{href}" title="{title}">[{c.number}]</a>'

    return _MARKER.sub(_link, escape(text, quote=False))


def pending_message(status: str = "Searching the collection…") -> str:
    """What the chat shows until the checked answer is there (never an unchecked draft)."""
    return f'<div class="pending">{escape(status[:1].upper() + status[1:])}</div>'


def answer_message(answer: Answer, turn: int) -> str:
    """The final chat bubble: the checked answer with linked [n] markers, or an abstention."""
    if answer.abstained:
        return abstention_message(answer, turn)
    body = link_markers(answer.text, answer.citations, turn)
    parts = [f'<div class="answer">{body}</div>']
    if answer.citations:
        items = "".join(
            f'<li><a href="#{source_anchor(turn, c.number)}">[{c.number}]</a> '
            f"{escape(c.title)}</li>"
            for c in answer.citations
        )
        parts.append(f'<ul class="src-foot">{items}</ul>')
    return "".join(parts)


def abstention_message(answer: Answer, turn: int = 0) -> str:
    """A notice, styled apart from answers, with the closest passages as related reading: "Not
    stated" when the paper is there but does not give what was asked, else "Not in the
    collection"."""
    related = "".join(
        f"<li>{escape(p.title)} <span class='muted'>({escape(_file_name(p.source))})</span></li>"
        for p in _unique_papers(answer.passages)[:3]
    )
    reading = f'<div class="related">Related reading:<ul>{related}</ul></div>' if related else ""
    title = "Not stated" if answer.not_stated == "attribute" else "Not in the collection"
    body = link_markers(answer.text, answer.citations, turn)
    return (
        f'<div class="abstain"><div class="abstain-title">{title}</div>'
        f"<div>{body}</div>{reading}</div>"
    )


def error_message(message: str) -> str:
    """An expected failure (LLM down, empty question…), shown as a chat message."""
    return f'<div class="error-msg"><strong>Could not answer.</strong> {escape(message)}</div>'


def _unique_papers(passages: list[Passage]) -> list[Passage]:
    seen: set[str] = set()
    out = []
    for p in passages:
        key = p.doc_id or p.title
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _card(
    anchor: str, badge: str, title: str, source: str, score: float, snippet: str, full: str
) -> str:
    more = ""
    if full and _short(full, 10_000) != snippet:
        more = f"<details><summary>Full passage</summary><p>{escape(full)}</p></details>"
    return (
        f'<div class="src-card" id="{anchor}">'
        f'<div class="src-head"><span class="src-num">{badge}</span>'
        f'<span class="src-title">{escape(title)}</span></div>'
        f'<div class="src-meta"><span class="src-file">{escape(_file_name(source))}</span>'
        f'<span class="src-score">score {score:.3f}</span></div>'
        f'<blockquote class="src-snippet">{escape(snippet)}</blockquote>{more}</div>'
    )


def sources_panel(answer: Answer | None, turn: int) -> str:
    """The Sources panel: a card per citation, or the related passages of an abstention."""
    if answer is None:
        return (
            '<div class="sources empty">Sources appear here: every <span class="cite">[n]</span> '
            "in an answer points to a card with the paper's title, file, the supporting "
            "snippet and its retrieval score.</div>"
        )
    passages = {p.number: p for p in answer.passages if p.number}
    if not answer.citations:
        cards = "".join(
            _card(
                source_anchor(turn, i),
                str(i),
                p.title,
                p.source,
                p.score,
                _short(p.text),
                p.text,
            )
            for i, p in enumerate(_unique_papers(answer.passages), 1)
        )
        head = "Related passages (not cited)" if answer.abstained else "Retrieved passages"
        return f'<div class="sources related-list"><div class="src-h">{head}</div>{cards}</div>'
    cards = "".join(
        _card(
            source_anchor(turn, c.number),
            str(c.number),
            c.title,
            c.source,
            c.score,
            _short(c.snippet),
            passages[c.number].text if c.number in passages else "",
        )
        for c in answer.citations
    )
    head = f'<div class="src-h">Sources of answer {turn + 1}</div>'
    return f'<div class="sources">{head}{cards}</div>'


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
        text += f"  \nskipped `{_file_name(f.path)}`: {f.reason}"
    return text
