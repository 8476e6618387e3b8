"""Block Kit messages for answers, sources, abstentions, errors and the placeholder.

Pure functions from `Answer` to the `text` + `blocks` of a Slack message, kept inside Slack's
limits (https://api.slack.com/reference/block-kit/blocks): a section's text is at most 3,000
characters, a message at most 50 blocks, a button's text 75 characters and its value 2,000, a
context block 10 elements. slack_sdk's block models validate these limits but raise instead of
fitting the content in, so the splitting and truncating below is our own.
"""

from __future__ import annotations

from typing import Any

from rag.core.types import Answer, Citation, Passage
from rag.ingest.sources import source_place
from rag.service.export import SourceURL

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
TEXT_LIMIT = 3000  # the notification/fallback `text`; Slack truncates past 40,000 anyway
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 2000
MAX_SOURCES = 10
SNIPPET_CHARS = 300
TITLE_CHARS = 300  # a cited title, so that a linked one never gets cut inside its link

PLACEHOLDER_TEXT = "searching…"
ACTION_SHARE = "rag_share"
ACTION_FEEDBACK_UP = "rag_feedback_up"
ACTION_FEEDBACK_DOWN = "rag_feedback_down"

Block = dict[str, Any]
Message = dict[str, Any]  # keyword arguments of chat.postMessage / chat.update / respond


def escape(text: str) -> str:
    """Slack's mrkdwn needs only &, < and > escaped (so `<@U1>` in a title stays text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `limit` characters, on a word boundary when one is near."""
    if len(text) <= limit:
        return text
    cut = limit - len(ellipsis)
    space = text.rfind(" ", 0, cut)
    if space > cut * 0.8:
        cut = space
    return _safe_cut(text, cut).rstrip() + ellipsis


def _safe_cut(text: str, cut: int) -> str:
    """Never cut an escaped entity (&amp; &lt; &gt;) in half."""
    amp = text.rfind("&", max(0, cut - 4), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp
    return text[:cut]


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, preferring paragraph, line,
    sentence and word boundaries, in that order."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _best_cut(rest, limit)
        head = _safe_cut(rest, cut).rstrip()
        pieces.append(head)
        rest = rest[len(head) :].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    for sep in ("\n\n", "\n", ". ", " "):
        at = text.rfind(sep, 0, limit)
        if at > limit // 2:
            return at + (1 if sep == ". " else 0)
    return limit


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def _context(*texts: str) -> Block:
    elements = [
        {"type": "mrkdwn", "text": truncate(t, CONTEXT_TEXT_LIMIT)} for t in texts[:10] if t
    ]
    return {"type": "context", "elements": elements}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, BUTTON_TEXT_LIMIT), "emoji": True},
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_LIMIT],
    }
    if style:
        button["style"] = style
    return button


def _link(url: str, text: str) -> str:
    """Slack's mrkdwn link `<url|text>` (`text` escaped already; the URL's & < > escaped too, as
    Slack asks; the link ends at its first raw `>`)."""
    return f"<{escape(url)}|{text}>"


def _citation_text(c: Citation, quoted: bool = False, url: SourceURL | None = None) -> str:
    """A source (its readable name, page or section); its snippet only when the answer does not
    already quote it. With `url` (settings.public_url set), its title links to where the
    citation opens: the source view at the cited sentence (rag/service/export.py)."""
    title = escape(c.title)
    target = url(c) if url is not None and c.doc_id else ""
    if target.startswith(("https://", "http://")):  # never a stored path as a link
        title = _link(target, escape(truncate(" ".join(c.title.split()), TITLE_CHARS)))
    head = f"*[{c.number}] {title}*\n_{escape(source_place(c, ' · '))}_"
    if quoted:
        return head
    return f"{head}\n> {escape(truncate(' '.join(c.snippet.split()), SNIPPET_CHARS))}"


def _passage_text(p: Passage) -> str:
    snippet = escape(truncate(" ".join(p.text.split()), SNIPPET_CHARS))
    return f"*{escape(p.title)}*\n_{escape(source_place(p, ' · '))}_\n> {snippet}"


def _evidence_blocks(answer: Answer, url: SourceURL | None = None) -> list[Block]:
    """The Sources block (one section per cited paper, its title a link with `url`), or
    related reading for an abstention."""
    if answer.abstained:
        if not answer.passages:
            return []
        items = [_passage_text(p) for p in answer.passages[:MAX_SOURCES]]
        heading = "*Related reading* (closest passages, not an answer)"
    else:
        if not answer.citations:
            return []
        items = [_citation_text(c, answer.quotes(c), url) for c in answer.citations[:MAX_SOURCES]]
        heading = "*Sources*"
    return [{"type": "divider"}, _section(heading)] + [_section(i) for i in items]


def _footer(answer: Answer) -> Block | None:
    parts = []
    if answer.standalone_question and answer.standalone_question.strip() != answer.question.strip():
        parts.append(f"Searched for: _{escape(answer.standalone_question)}_")
    meta = [answer.llm] if answer.llm else []
    total = answer.timings.get("total")
    if total is not None:
        meta.append(f"{total:.1f} s")
    if meta:
        parts.append(" · ".join(escape(m) for m in meta))
    return _context(*parts) if parts else None


def _actions(answer_id: str, shareable: bool) -> Block:
    elements = [
        _button(":thumbsup: Helpful", ACTION_FEEDBACK_UP, answer_id),
        _button(":thumbsdown: Not helpful", ACTION_FEEDBACK_DOWN, answer_id),
    ]
    if shareable:
        elements.append(_button("Share to channel", ACTION_SHARE, answer_id, style="primary"))
    return {"type": "actions", "block_id": "rag_answer_actions", "elements": elements}


def answer_blocks(
    answer: Answer,
    *,
    answer_id: str | None = None,
    shareable: bool = False,
    asked_by: str | None = None,
    url: SourceURL | None = None,
) -> list[Block]:
    """The answer (with its [n] markers), its sources, a footer and the buttons; <= 50 blocks.

    `answer_id` keys the feedback/share buttons (no buttons without it); `asked_by` (a user id)
    adds a "<@user> asked: …" line, for answers shown outside the asker's own thread; `url`
    (rag/service/export.py `public_view_url`) links each cited source; none: no links.
    """
    head = [_context(f"<@{asked_by}> asked: *{escape(answer.question)}*")] if asked_by else []
    tail: list[Block] = []
    footer = _footer(answer)
    if footer:
        tail.append(footer)
    if answer_id:
        tail.append(_actions(answer_id, shareable))
    evidence = _evidence_blocks(answer, url)
    body_text = escape(answer.text)
    if answer.abstained:
        body_text = f":grey_question: {body_text}"
    room = MAX_BLOCKS - len(head) - len(tail) - len(evidence)
    body = split_text(body_text) or ["(empty answer)"]
    if len(body) > room:
        last = truncate(body[room - 1], SECTION_LIMIT - 40) + " _(truncated)_"
        body = [*body[: room - 1], last]
    return head + [_section(b) for b in body] + evidence + tail


def answer_message(
    answer: Answer,
    *,
    answer_id: str | None = None,
    shareable: bool = False,
    asked_by: str | None = None,
    url: SourceURL | None = None,
) -> Message:
    """`text` (notifications, and what a thread's history reads back) plus `blocks`."""
    blocks = answer_blocks(
        answer, answer_id=answer_id, shareable=shareable, asked_by=asked_by, url=url
    )
    return {"text": truncate(escape(answer.text), TEXT_LIMIT), "blocks": blocks}


def placeholder_message(question: str) -> Message:
    return {
        "text": PLACEHOLDER_TEXT,
        "blocks": [_context(f":hourglass_flowing_sand: {PLACEHOLDER_TEXT} _{escape(question)}_")],
    }


def notice_message(text: str, emoji: str = ":information_source:") -> Message:
    """A short message (usage hint, error, thanks); `text` is plain text, escaped here."""
    safe = escape(text)
    return {"text": truncate(safe, TEXT_LIMIT), "blocks": [_section(f"{emoji} {safe}")]}
