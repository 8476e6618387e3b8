"""A saved conversation as Markdown or JSON, each answer with its numbered sources and the URL
that opens each one, and the source URL itself, so that every face builds them the same way:
the API's `GET /v1/conversations/{id}/export` (the cited file) and its `url_citation` annotations
(`view_url`: the source view at the cited sentence, rag/api/openai.py), and the UI (its document
route) alike."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from rag.core.inert import inert
from rag.core.settings import Settings
from rag.core.text import neutralise
from rag.core.types import Answer, Citation, Conversation, Passage
from rag.ingest.sources import cited_text, view_query
from rag.service.links import FILE, VIEW, LinkSigner, link_signer
from rag.state.conversations import answers_of

SourceURL = Callable[[Citation | Passage], str]

API_SOURCE_ROUTE = "/v1/sources/"  # rag serve: the file a cited document comes from
API_VIEW_SUFFIX = "/view"  # rag serve: …/{doc_id}/view, the source view at the cited sentence
UI_SOURCE_ROUTE = "/document/"  # rag ui: the same, behind the UI's login


def source_url(
    base: str,
    route: str = API_SOURCE_ROUTE,
    signer: LinkSigner | None = None,
    collection: str = "",
) -> SourceURL:
    """The URL that opens a citation's document (`base` + `route` + its id), at its page
    (`#page=N`, which PDF viewers follow); a citation without a document id keeps its source.
    With `signer` (tokens on) it is signed for `collection` (rag/service/links.py), so that a
    browser opens it without a token."""

    def url(c: Citation | Passage) -> str:
        if not c.doc_id:
            return c.source
        where = f"#page={c.page}" if c.page else ""
        signed = f"?{signer.query(FILE, collection, c.doc_id)}" if signer else ""
        return f"{base.rstrip('/')}{route}{quote(c.doc_id, safe='')}{signed}{where}"

    return url


def view_url(
    base: str,
    route: str = API_SOURCE_ROUTE,
    suffix: str = API_VIEW_SUFFIX,
    signer: LinkSigner | None = None,
    collection: str = "",
) -> SourceURL:
    """The URL of a citation's source view (rag/service/source_view.py: the document's text, the
    cited sentence marked and scrolled into view, `?hl=…#cited`), what the API's `url_citation`
    annotations open; the UI's is its document route itself (`UI_SOURCE_ROUTE`, suffix "").
    With `signer` (tokens on) it also carries `c`, `exp` and `sig` (rag/service/links.py): it
    opens without a token, for that document, sentence and `collection` ("" the default one)."""

    def url(c: Citation | Passage) -> str:  # a passage: the view at its start
        if not c.doc_id:
            return c.source
        where = f"{quote(c.doc_id, safe='')}{suffix}"
        query = view_query(cited_text(c))  # "?hl=…#cited", or "" for no sentence
        if signer is not None:
            parts = urlsplit(query)
            hl = parse_qs(parts.query).get("hl", [""])[0]
            signed = signer.query(VIEW, collection, c.doc_id, hl)
            fragment = f"#{parts.fragment}" if parts.fragment else ""
            query = f"?{parts.query}&{signed}{fragment}" if parts.query else f"?{signed}"
        return f"{base.rstrip('/')}{route}{where}{query}"

    return url


def public_view_url(
    public_url: str | None, settings: Settings | None = None, collection: str | None = None
) -> SourceURL | None:
    """The source view URL of a citation as the API's annotations give it (`view_url`), on the
    externally reachable base of `rag serve` (settings.public_url), for the faces that have no
    request to take a base from (Slack, the CLI); None when it is not set: no links. With
    `settings` whose tokens are on, the links are signed for `collection` (None: the default)."""
    base = (public_url or "").strip()
    if not base:
        return None
    signer = link_signer(settings) if settings is not None else None
    return view_url(base, signer=signer, collection=collection or "")


def source_name(c: Citation) -> str:
    """A citation as a reader names it: the document's title, then its readable source (a
    listing's name, an uploaded file's name) and its page or section, when there are."""
    title = " ".join((c.title or c.label or c.source).split())
    where = [c.label] if c.label and c.label != title else []
    if c.page:
        where.append(f"p. {c.page}")
    elif c.section:
        where.append(c.section)
    return f"{title} ({', '.join(where)})" if where else title


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def answer_markdown(question: str, answer: Answer, url: SourceURL) -> str:
    """One turn: the question as a heading, the checked answer (its [n] markers kept; links
    and HTML from documents made inert), then its sources numbered as the answer cites them,
    each a link."""
    lines = [f"## {' '.join(question.split())}", "", neutralise(answer.text).strip() or "(none)"]
    if answer.citations:
        lines += ["", "**Sources**", ""]
        for c in sorted(answer.citations, key=lambda c: c.number):
            # text from documents: links and HTML inert, brackets kept out of the link's text
            name = neutralise(source_name(c)).replace("[", "(").replace("]", ")")
            target = url(c)
            target = f"<{target}>" if any(ch in target for ch in " ()<>") else target
            lines.append(f"{c.number}. [{name}]({target})")
    return "\n".join(lines)


PerCollection = Callable[[str], SourceURL]  # a collection ("" the default) -> its source URLs


def _turn_urls(
    conv: Conversation, url: SourceURL, per_collection: PerCollection | None
) -> Callable[[str], SourceURL]:
    """The source URLs of each turn by its id: `url`, or with `per_collection` (links signed for
    the collection the turn was asked of, rag/service/links.py) that collection's."""
    if per_collection is None:
        return lambda _: url
    # a turn's id as answers_of gives it; a turn saved without a collection asked the default
    asked = {
        str(t.get("id") or f"t{i}"): str(t.get("collection") or "")
        for i, t in enumerate(conv.turns)
    }
    return lambda turn_id: per_collection(asked.get(turn_id, ""))


def conversation_markdown(
    conv: Conversation, url: SourceURL, per_collection: PerCollection | None = None
) -> str:
    """The conversation as one Markdown document: its title, when it was saved, then every
    readable turn (answer_markdown); with `per_collection`, each turn's links are its
    collection's (`_turn_urls`)."""
    head = [f"# {conv.title}", "", f"_Saved {_when(conv.created)}, updated {_when(conv.updated)}._"]
    urls = _turn_urls(conv, url, per_collection)
    turns = [answer_markdown(q, a, urls(t)) for t, q, a in answers_of(conv)]
    return "\n\n".join(["\n".join(head), *turns]) + "\n"


def conversation_json(
    conv: Conversation, url: SourceURL, per_collection: PerCollection | None = None
) -> dict[str, Any]:
    """The conversation as JSON: id, title, times, and each turn's question, answer text,
    abstention and citations (every field of a Citation, plus its `url`; with `per_collection`,
    its turn's collection's, `_turn_urls`)."""
    urls = _turn_urls(conv, url, per_collection)
    turns = [
        {
            "id": turn_id,
            "question": q,
            "answer": a.text,
            "abstained": a.abstained,
            "citations": [
                {**c.model_dump(mode="json"), "url": urls(turn_id)(c)} for c in a.citations
            ],
        }
        for turn_id, q, a in answers_of(conv)
    ]
    return {
        "id": conv.id,
        "title": conv.title,
        "created": conv.created,
        "updated": conv.updated,
        "turns": turns,
    }


def conversation_json_text(
    conv: Conversation, url: SourceURL, per_collection: PerCollection | None = None
) -> str:
    """conversation_json as the API's `format=json` sends it (text from documents made inert,
    rag/core/inert.py), indented: the UI's JSON export."""
    body = inert(conversation_json(conv, url, per_collection))
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
