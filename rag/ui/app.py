"""The Gradio chat app: it translates between the page and an `Assistant`, nothing more.

`build_app(assistant, settings)` makes the Blocks (testable, mountable); `launch(settings)` serves
it on `settings.ui` host/port/login, offline (no analytics, no share link, no web fonts), with
routes of its own: `/document/{doc_id}`, the source view a citation opens (the document's stored
text with the cited sentence marked and scrolled into view: rag/service/source_view.py), and
`/document/{doc_id}/file`, the file it comes from (confined to the indexing roots, at the cited
page `#page=N` of a PDF), both behind the same login.

The page: saved conversations in a sidebar (rag/state/conversations.py: every answered turn is saved
for the logged-in user, or "local" without a login; reopen, rename, delete, export as Markdown or
JSON), the chat, the Sources panel (a card per citation: readable source name, page or section,
relevance, "Show source", which shows the source view in the source panel, beside the chat on a
wide window and below it on a narrow one, and a link that opens it in a new tab), and the Index
panel: upload documents (drag and drop, several at once; needs the admin token), the upload and
index report, the list of uploaded documents with delete (rag/ingest/library.py), and the
re-index button. Typing the admin token shows the document list and lets the browser upload: the
page keeps the token in a cookie that Gradio's upload route asks for (rag/ui/login.py:
UploadGuard); nobody else sees the list or may upload.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.middleware import Middleware

from rag.core import logs, metrics, tracing
from rag.core.errors import NotAuthorisedError, NotFoundError, RagError
from rag.core.network import check_exposure, server_options
from rag.core.settings import Settings
from rag.core.types import Answer, AnswerEvent, AssistantLike, SourcesEvent, StatusEvent
from rag.ingest.paths import SUPPORTED
from rag.ingest.sources import original_url
from rag.service import observe
from rag.service.access import Access, Principal, check_admin, owner_key
from rag.service.collections import (
    AssistantOrPool,
    Collections,
    RemoteCollections,
    make_assistant,
    pool_of,
)
from rag.service.documents import DocumentText
from rag.service.export import (
    UI_SOURCE_ROUTE,
    conversation_json_text,
    conversation_markdown,
    view_url,
)
from rag.service.quotas import Quotas
from rag.service.source_view import (
    VIEW_HEADERS,
    find_document,
    original_file_response,
    source_view_html,
)
from rag.state.conversations import LOCAL_OWNER, Conversations, answers_of, new_turn_id
from rag.state.feedback import FeedbackStore
from rag.ui import render
from rag.ui.login import ADMIN_COOKIE, UploadGuard, login_guard
from rag.ui.theme import CSS, make_theme

log = logging.getLogger(__name__)

EXAMPLES = [
    "Which paper quantizes the KV cache by identifying salient tokens?",
    "How does the Big Little Decoder speed up text generation?",
    "Which method removes whole layers of LLaMA to make inference faster?",
    "What is a layer-condensed KV cache?",
]

# On a phone the conversation list is a drawer: closed when the page opens and once one is chosen.
CLOSE_SIDEBAR_ON_PHONE_JS = """
() => {
  if (window.innerWidth >= 768) return;
  const bar = document.querySelector('#conv-sidebar');
  if (bar && bar.classList.contains('open')) bar.querySelector('.toggle-button')?.click();
}
"""
# Clicking an [n] highlights its card (class "hl") and scrolls it into view, also when the card
# only appears once the panel shows that answer's sources (an earlier answer's [n]: the chat's
# select event switches the panel); a card of another answer never keeps the highlight. It also
# shows that card's source in the source panel (SOURCE_PANEL_JS).
HIGHLIGHT_CITES_JS = """
() => {
  if (window.__ragCites) return;
  window.__ragCites = true;
  const mark = () => {
    const id = window.__ragTarget;
    document.querySelectorAll('#sources-panel .src-card.hl').forEach((c) => {
      if (c.id !== id) c.classList.remove('hl');
    });
    const card = id && document.getElementById(id);
    if (card && !card.classList.contains('hl')) {
      card.classList.add('hl');
      // not while the source panel is open or about to open: that is what the reader looks
      // at, over the card or above it (SOURCE_PANEL_JS)
      const showing = window.__ragShowFor === id && card.querySelector('button.src-show');
      if (!showing && document.getElementById('source-panel')?.hidden !== false) {
        card.scrollIntoView({block: 'nearest'});
      }
    }
    if (card && window.__ragShowFor === id && window.__ragShowSource) {
      window.__ragShowFor = null;  // the [n] clicked also shows its source (SOURCE_PANEL_JS)
      window.__ragShowSource(card.querySelector('button.src-show'), window.__ragShowFrom);
    }
  };
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a.cite, ul.src-foot a');
    const href = a ? a.getAttribute('href') || '' : '';
    if (href.startsWith('#src-')) {
      // Not the link's own jump to its card: that scrolls the page, moving the answer being
      // read (the panel shows the source instead). The address still names the card.
      e.preventDefault();
      history.replaceState(history.state, '', href);
      window.__ragTarget = window.__ragShowFor = href.slice(1);
      window.__ragShowFrom = a;
      mark();
    }
  }, true);
  const panel = document.querySelector('#sources-panel') || document.body;
  new MutationObserver(mark).observe(panel, {subtree: true, childList: true});
}
"""
# The source panel: a card's "Show source" (and clicking an answer's [n]) shows the source view
# (rag/service/source_view.py, the same `/document/{doc_id}?hl=…#cited` URL as the card's new-tab
# link, so the same login and links apply) in a frame there, the cited sentence marked and
# scrolled into view. It is the Sources column's: on a wide window (SOURCE_PANEL_WIDE) it lies
# over that column, beside the chat, so the answer being read stays in view (what it covers is
# inert meanwhile); where the columns stack it opens at the column's top, below the chat. Focus
# moves to the panel; its Close button, or Escape (also pressed inside the frame: the view runs
# no script, so the page listens to the framed document, which is of its own origin), closes it
# and gives focus back to what opened it. A new chat closes it.
SOURCE_PANEL_WIDE = "(min-width: 1024px)"  # theme.py's media query for it says the same
SOURCE_PANEL_HTML = (
    '<section id="source-panel" class="source-panel" aria-labelledby="source-panel-h" hidden>'
    '<div class="sp-bar"><h2 id="source-panel-h" tabindex="-1">Source</h2>'
    '<a id="source-panel-tab" class="sp-tab" href="#" target="_blank" rel="noopener">'
    "Open in new tab ↗</a>"
    '<button type="button" id="source-panel-close" class="sp-close" '
    'aria-label="Close the source panel">Close ✕</button></div>'
    '<iframe id="source-panel-frame" title="Source view" src="about:blank"></iframe></section>'
)
SOURCE_PANEL_JS = """
() => {
  if (window.__ragPanel) return;
  window.__ragPanel = true;
  const el = (id) => document.getElementById(id);
  const wide = window.matchMedia('WIDE');
  let opener = null;
  // Over the Sources column (wide), what the panel covers takes no focus nor clicks.
  const cover = () => {
    const panel = el('source-panel');
    const box = el('source-panel-box');
    const col = box && box.parentElement;
    if (!panel || !col) return;
    const on = !panel.hidden && wide.matches;
    for (const c of col.children) if (c !== box) c.inert = on;
  };
  wide.addEventListener('change', cover);
  const close = () => {
    const panel = el('source-panel');
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    cover();
    el('source-panel-frame').src = 'about:blank';
    if (opener && opener.isConnected) opener.focus({preventScroll: true});
    opener = null;
  };
  const onKey = (e) => {
    const panel = el('source-panel');
    if (e.key === 'Escape' && panel && !panel.hidden) { e.preventDefault(); close(); }
  };
  // Escape with focus in the frame: its keys go to the framed document, listened to here.
  // The frame loads the view without its #cited (the jump to a fragment scrolls the frame's
  // ancestors too: the page, moving the answer being read); once loaded, only the framed
  // document is scrolled to the cited sentence, as its #cited would (its scroll-margin).
  // Should the page be scrolled anyway, the panel's top, its title and Close, are brought back
  // into view.
  const toCited = (doc) => {
    const mark = doc.getElementById('cited');
    const win = doc.defaultView;
    if (!mark || !win) return;
    const margin = parseFloat(win.getComputedStyle(mark).scrollMarginTop) || 0;
    win.scrollTo(0, win.scrollY + mark.getBoundingClientRect().top - margin);
  };
  const frame = el('source-panel-frame');
  if (frame) frame.addEventListener('load', () => {
    try {
      const doc = frame.contentDocument;
      if (doc) {
        doc.addEventListener('keydown', onKey);
        if (frame.dataset.cited) toCited(doc);
      }
    } catch (err) {}
    const panel = el('source-panel');
    requestAnimationFrame(() => {
      if (panel && !panel.hidden && panel.getBoundingClientRect().top < 0) {
        panel.scrollIntoView({block: 'start'});
      }
    });
  });
  const open = (button, from) => {
    const panel = el('source-panel');
    const url = button && button.dataset.view;
    if (!panel || !url) return;
    const card = button.closest('.src-card');
    const num = card?.querySelector('.src-num')?.textContent || '';
    const title = card?.querySelector('.src-title')?.textContent || 'Source';
    opener = from || button;
    el('source-panel-h').textContent = (num ? '[' + num + '] ' : '') + title;
    el('source-panel-tab').setAttribute('href', url);
    const frame = el('source-panel-frame');
    frame.setAttribute('title', 'Source view: ' + title);
    const bare = url.endsWith('#cited') ? url.slice(0, -'#cited'.length) : url;
    frame.dataset.cited = bare !== url ? 'yes' : '';
    frame.src = bare;  // scrolled to its #cited once loaded, the page left as it is
    panel.hidden = false;
    cover();
    const heading = el('source-panel-h');
    heading.focus({preventScroll: true});
    // again after the click's own default. Where the columns stack the panel is brought into
    // view; beside the chat (wide) the page stays where it is (the answer being read does not
    // move) unless the panel's title bar is out of the window.
    setTimeout(() => {
      const top = panel.getBoundingClientRect().top;
      if (!wide.matches || top < 0 || top > window.innerHeight - 48) {
        panel.scrollIntoView({block: 'nearest'});
      }
      if (!panel.hidden) heading.focus({preventScroll: true});
    }, 0);
  };
  window.__ragShowSource = open;
  document.addEventListener('click', (e) => {
    const t = e.target.closest ? e.target : null;
    if (!t) return;
    const show = t.closest('button.src-show');
    if (show) { open(show); return; }
    if (t.closest('#source-panel-close, #new-chat, #side-new-chat, #conv-delete')) close();
  });
  document.addEventListener('keydown', onKey);
}
""".replace("WIDE", SOURCE_PANEL_WIDE)
# Gradio's sidebar measures how far to push the page aside when it mounts, sometimes before it
# is laid out (then it overlaps the chat); a resize event makes it measure again.
PAGE_LOAD_JS = (
    "() => { for (const ms of [50, 400, 1500]) setTimeout(() => "
    "window.dispatchEvent(new Event('resize')), ms); ("
    + CLOSE_SIDEBAR_ON_PHONE_JS
    + ")(); ("
    + SOURCE_PANEL_JS
    + ")(); ("
    + HIGHLIGHT_CITES_JS
    + ")(); }"
)

# The upload report sits under the upload box, often below the fold: bring it into view.
SHOW_UPLOAD_REPORT_JS = (
    "() => { const r = document.querySelector('#upload-report .upload-report');"
    " if (r) r.scrollIntoView({block: 'nearest', behavior: 'instant'}); }"
)
# What the Index panel says where no admin token is set (uploads and re-indexing are off).
INDEX_OFF_HINT = (
    "Uploading and re-indexing are off here: they need an admin token. To turn them on, set "
    "`RAG_SECURITY__ADMIN_TOKEN` (or `admin_token` under `[security]` in `rag.toml`) and restart "
    "`rag ui`, then type the token in this panel."
)

# The admin token, as typed, in a cookie the browser sends with its uploads (UploadGuard).
ADMIN_COOKIE_JS = (
    "(t) => { document.cookie = '"
    + ADMIN_COOKIE
    + "=' + encodeURIComponent(t || '') + '; path=/; SameSite=Strict'; }"
)

Message = dict[str, Any]
# {"question": str, "answer": Answer, "message_index": int, "key": turn id, "saved": bool}
Turn = dict[str, Any]
ChatOutput = tuple[Any, list[Message], list[Turn], Any]


def owner_of(request: gr.Request | None) -> str:
    """Whose conversations: the logged-in user, or "local" when the UI has no login, in the UI's
    namespace (rag/service/access.py `owner_key`)."""
    name = getattr(request, "username", None) if request is not None else None
    return owner_key("ui", str(name) if name else LOCAL_OWNER)


class ChatController:
    """The event handlers, bound to a pool of collections (the given assistant serves the
    default one), one state store and one library per collection. Every handler asks for the
    collection picked on the page, and gets it only if the logged-in user was granted it."""

    def __init__(self, assistant: AssistantOrPool, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.pool = pool_of(settings, assistant)
        self.access = Access(settings)
        self.feedback = FeedbackStore.from_settings(settings)
        self.conversations = Conversations(self.feedback.store)
        self.quotas = Quotas(settings)  # per user (rag/service/quotas.py)

    # -- collections ---------------------------------------------------------------------------
    def _principal(self, request: gr.Request | None) -> Principal:
        return self.access.by_user(getattr(request, "username", None) if request else None)

    def collections_for(self, request: gr.Request | None) -> list[str]:
        """The collections the logged-in user may use (the picker's choices)."""
        return self.access.allowed(self._principal(request), self.pool.names())

    def _resolve(self, collection: str | None, request: gr.Request | None) -> str:
        return self.access.resolve(self._principal(request), collection, self.pool)

    def assistant_for(self, collection: str | None, request: gr.Request | None) -> AssistantLike:
        """The picked collection's assistant; CollectionNotFoundError unless the user may."""
        return self.pool.get(self._resolve(collection, request))

    @property
    def library(self) -> Any:
        """The default collection's uploads (the document route's fallback)."""
        return self.pool.library(None)

    def library_for(self, collection: str | None, request: gr.Request | None) -> Any:
        return self.pool.library(self._resolve(collection, request))

    def open_document(self, doc_id: str, username: str | None) -> Path:
        """The file of an indexed document of one of the user's collections (the document
        route); NotFoundError for any other, whoever's it is."""
        principal = self.access.by_user(username)
        for name in self.access.allowed(principal, self.pool.names()):
            try:
                return Path(self.library_for(name, None).open(doc_id))
            except RagError:
                continue
        raise NotFoundError(f"No indexed document {doc_id[:200]!r}.")

    def read_document(self, doc_id: str, username: str | None) -> DocumentText:
        """An indexed document's stored text, from one of the user's collections (the source
        view); NotFoundError for any other, or where no store is at hand (over `api_url`)."""
        principal = self.access.by_user(username)
        names = self.access.allowed(principal, self.pool.names())
        return find_document((getattr(self.pool.get(n), "store", None) for n in names), doc_id)

    def collection_picker(self, request: gr.Request) -> Any:
        """The user's collections, the default first when it is one of them; hidden when
        there is only one to pick."""
        names = self.collections_for(request)
        value = self.pool.default if self.pool.default in names else (names[0] if names else None)
        return gr.update(choices=names, value=value, visible=len(names) > 1)

    # -- chat -------------------------------------------------------------------------------
    def respond(
        self,
        question: str,
        chat: list[Message] | None,
        k: float,
        hybrid: bool,
        turns: list[Turn] | None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> Iterator[ChatOutput]:
        """Status lines and the retrieved sources while it works, then the checked answer,
        from the picked collection."""
        chat, turns = list(chat or []), list(turns or [])
        question = (question or "").strip()
        if question:
            chat.append({"role": "user", "content": question})
        chat.append({"role": "assistant", "content": render.pending_message()})
        yield "", chat, turns, gr.skip()

        key = new_turn_id()  # the card ids of this answer's sources
        history = [(t["question"], t["answer"].text) for t in turns]
        answer: Answer | None = None
        try:
            name = self._resolve(collection, request)
            owner = self._principal(request).owner
            self.quotas.check(owner, "ui")  # over a quota: its one-line notice, no answer
            with logs.request("ui"):  # the stream keeps it: its steps log this request's id
                events = self.pool.get(name).stream(
                    question, history=history, k=int(k), **self._mode_kwargs(hybrid)
                )
            events = self.quotas.counting(owner, events)
            for event in events:
                # Only status lines, the retrieved sources and checked text are shown.
                if isinstance(event, StatusEvent):
                    chat[-1] = {"role": "assistant", "content": render.pending_message(event.text)}
                    yield gr.skip(), chat, turns, gr.skip()
                elif isinstance(event, SourcesEvent):
                    found = Answer(question=question, text="", passages=event.passages)
                    yield gr.skip(), chat, turns, render.sources_panel(found, key, len(turns))
                elif isinstance(event, AnswerEvent):
                    answer = event.answer
        except RagError as e:  # expected failures are messages, not stack traces
            chat[-1] = {"role": "assistant", "content": render.error_message(str(e))}
            yield gr.skip(), chat, turns, gr.skip()
            return
        except Exception as e:  # a bug: log it for the operator, tell the user briefly
            log.exception("answering failed")
            msg = f"Something went wrong ({type(e).__name__}). The details are in the server log."
            chat[-1] = {"role": "assistant", "content": render.error_message(msg)}
            yield gr.skip(), chat, turns, gr.skip()
            return
        if answer is None:
            chat[-1] = {"role": "assistant", "content": render.error_message("No answer came.")}
            yield gr.skip(), chat, turns, gr.skip()
            return
        ordinal = len(turns)
        chat[-1] = {"role": "assistant", "content": render.answer_message(answer, key)}
        turns.append(
            {
                "question": question,
                "answer": answer,
                "message_index": len(chat) - 1,
                "key": key,
                "saved": False,
                "collection": name,
            }
        )
        yield gr.skip(), chat, turns, render.sources_panel(answer, key, ordinal)

    def _mode_kwargs(self, hybrid: bool) -> dict[str, Any]:
        """Retrieval mode for this call; omitted when it is the configured default."""
        mode = "hybrid" if hybrid else "vector"
        return {} if mode == self.settings.retrieval.mode else {"mode": mode}

    @staticmethod
    def _turn_at(turns: list[Turn] | None, message_index: Any) -> tuple[int, Turn] | None:
        if isinstance(message_index, (list, tuple)):
            message_index = message_index[0]
        for i, t in enumerate(turns or []):
            if t["message_index"] == message_index:
                return i, t
        return None

    def show_sources(self, turns: list[Turn] | None, evt: gr.SelectData) -> Any:
        """Clicking an earlier answer shows its sources in the panel."""
        found = self._turn_at(turns, evt.index)
        if found is None:
            return gr.skip()
        i, t = found
        return render.sources_panel(t["answer"], t.get("key", i), i)

    def rate(self, turns: list[Turn] | None, evt: gr.LikeData) -> Any:
        """Thumbs up / down: store the rating with the question, answer and citations; a short
        note under the question box says so (no toast over the Sources panel)."""
        found = self._turn_at(turns, evt.index)
        if found is None or not isinstance(evt.liked, bool):
            return gr.skip()
        rating = 1 if evt.liked else -1
        try:
            self.feedback.record(found[1]["answer"], rating=rating, channel="ui")
        except RagError as e:
            return render.feedback_note(f"Feedback not saved: {e}")
        return render.feedback_note(
            "Thanks, feedback saved." if rating > 0 else "Thanks, noted for review."
        )

    @staticmethod
    def new_chat() -> tuple[Any, ...]:
        """An empty chat, no open conversation (the next answer starts a new one)."""
        return [], [], render.sources_panel(None), "", None, gr.update(value=None), "", ""

    # -- saved conversations ------------------------------------------------------------------
    def _choices(self, owner: str) -> list[tuple[str, str]]:
        convs = self.conversations.list(owner)
        return list(zip(render.conversation_labels(convs), [c.id for c in convs], strict=True))

    def conversation_list(self, request: gr.Request) -> Any:
        try:
            return gr.update(choices=self._choices(owner_of(request)))
        except RagError as e:
            log.warning("cannot list conversations: %s", e)
            return gr.update(choices=[])

    def save_turns(
        self, turns: list[Turn] | None, conv_id: str | None, request: gr.Request
    ) -> tuple[Any, ...]:
        """Save the answered turns not saved yet in the open conversation (a new one for the
        first answer, titled with its question); the sidebar then lists it, selected."""
        turns = list(turns or [])
        owner = owner_of(request)
        try:
            for t in turns:
                if not t.get("saved"):
                    conv_id = self.conversations.record(
                        conv_id,
                        owner,
                        t["question"],
                        t["answer"],
                        t.get("key"),
                        collection=t.get("collection"),
                    )
                    t["saved"] = True
            choices = self._choices(owner)
        except RagError as e:
            log.warning("cannot save the conversation: %s", e)
            return turns, conv_id, gr.skip(), render.feedback_note(f"Not saved: {e}")
        return turns, conv_id, gr.update(choices=choices, value=conv_id), ""

    def open_conversation(self, conv_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """Reopen a saved conversation exactly as it was: its questions, checked answers and
        their sources (the last answer's in the panel; click an answer for its own)."""
        if not conv_id:
            return (gr.skip(),) * 5
        try:
            allowed = self.collections_for(request)  # a turn of another collection stays hidden
            conv = self.conversations.get(conv_id, owner_of(request), allowed)
        except RagError as e:
            note = render.error_message(str(e))
            return [{"role": "assistant", "content": note}], [], gr.skip(), None, ""
        chat: list[Message] = []
        turns: list[Turn] = []
        for key, question, answer in answers_of(conv):
            chat.append({"role": "user", "content": question})
            chat.append({"role": "assistant", "content": render.answer_message(answer, key)})
            turns.append(
                {
                    "question": question,
                    "answer": answer,
                    "message_index": len(chat) - 1,
                    "key": key,
                    "saved": True,
                }
            )
        last = turns[-1] if turns else None
        panel = (
            render.sources_panel(last["answer"], last["key"], len(turns) - 1)
            if last
            else render.sources_panel(None)
        )
        return chat, turns, panel, conv.id, conv.title

    def rename_conversation(self, conv_id: str | None, title: str, request: gr.Request) -> Any:
        owner = owner_of(request)
        if not conv_id:
            return gr.skip(), render.feedback_note("Open a saved conversation to rename it.")
        try:
            allowed = self.collections_for(request)
            self.conversations.rename(conv_id, owner, title or "", allowed)
            return gr.update(choices=self._choices(owner), value=conv_id), ""
        except RagError as e:
            return gr.skip(), render.feedback_note(str(e))

    def delete_conversation(self, conv_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        owner = owner_of(request)
        if conv_id:
            try:
                self.conversations.delete(conv_id, owner)
            except RagError as e:
                log.warning("cannot delete conversation %s: %s", conv_id, e)
        cleared = self.new_chat()
        return (*cleared[:5], self.conversation_list(request), *cleared[6:])

    def export_path(self, conv_id: str, request: gr.Request | None = None, fmt: str = "md") -> Path:
        """The user's conversation written to a new temporary file, as Markdown (`fmt` "md") or
        as the same JSON as the API's `format=json` ("json"): each answer with its numbered
        sources, linked to this page's source view (rag/service/export.py); NotFoundError as for
        opening it."""
        conv = self.conversations.get(conv_id, owner_of(request), self.collections_for(request))
        base = str(getattr(request, "base_url", "") or "") if request is not None else ""
        name = re.sub(r"[^A-Za-z0-9_-]", "", conv.id)[:40]
        fmt = "json" if fmt == "json" else "md"
        path = Path(tempfile.mkdtemp(prefix="rag-export-")) / f"conversation-{name}.{fmt}"
        url = view_url(base, UI_SOURCE_ROUTE, suffix="")  # the source view at the sentence
        text = (
            conversation_json_text(conv, url) if fmt == "json" else conversation_markdown(conv, url)
        )
        path.write_text(text, "utf-8")
        return path

    def export_conversation(
        self, conv_id: str | None, request: gr.Request, fmt: str = "md"
    ) -> tuple[Any, str]:
        """The open conversation as a Markdown (or, `fmt` "json", JSON) file to download, or
        why not."""
        if not conv_id:
            return gr.update(visible=False), render.feedback_note("Open a saved conversation.")
        try:
            path = self.export_path(conv_id, request, fmt)
            return gr.update(value=str(path), visible=True), ""
        except RagError as e:
            return gr.update(visible=False), render.feedback_note(str(e))

    def export_json(self, conv_id: str | None, request: gr.Request) -> tuple[Any, str]:
        """The open conversation as a JSON file to download (export_conversation)."""
        return self.export_conversation(conv_id, request, "json")

    # -- documents ------------------------------------------------------------------------------
    def _admin(self, token: str) -> None:
        admin = self.settings.security.admin_token
        check_admin(token or "", admin.get_secret_value() if admin else "")

    def document_list(self, collection: str | None = None, request: gr.Request = None) -> Any:  # type: ignore[assignment]
        try:
            library = self.library_for(collection, request)
            return gr.update(choices=[render.document_choice(d) for d in library.list()])
        except RagError as e:
            log.warning("cannot list documents: %s", e)
            return gr.update(choices=[])

    def documents_for(
        self,
        token: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> Any:
        """The document list, once the admin token is typed: what was uploaded (names, titles)
        is the admin's to see, not every user's."""
        try:
            self._admin(token)
        except RagError:
            return gr.update(choices=[], value=[])
        return self.document_list(collection, request)

    def upload(
        self,
        files: list[str] | None,
        token: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        """Store and index the dropped files, with a progress bar per file; then the report
        (added / updated / unchanged / failed with reasons) and the refreshed document list."""
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            self._admin(token)
            progress(0.0, desc="Checking the files…")

            def step(done: int, total: int, name: str) -> None:
                desc = f"Indexing {name} ({done + 1}/{total})" if name else "Done"
                progress(done / max(1, total), desc=desc)

            uploads = [(Path(f).name, Path(f)) for f in files]
            result = self.library_for(collection, request).add(uploads, on_progress=step)
            report = render.upload_report(result.files, result.report)
        except NotAuthorisedError as e:
            report = render.upload_error(f"Upload refused: {e}")
        except RagError as e:
            report = render.upload_error(str(e))
        return (
            report,
            self.document_list(collection, request),
            self.status(collection, request),
            None,
        )

    def delete_documents(
        self,
        ids: list[str] | None,
        token: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> tuple[Any, ...]:
        if not ids:
            return render.upload_error("Tick the documents to delete first."), gr.skip(), gr.skip()
        try:
            self._admin(token)
            library = self.library_for(collection, request)
            gone = [library.delete(i) for i in ids]
            names = ", ".join(d.id for d in gone)
            report = render.upload_note(
                f"Deleted {names}: its passages are no longer in the index."
            )
        except NotAuthorisedError as e:
            report = render.upload_error(f"Delete refused: {e}")
        except RagError as e:
            report = render.upload_error(str(e))
        return report, self.document_list(collection, request), self.status(collection, request)

    # -- side panels ------------------------------------------------------------------------
    def status(self, collection: str | None = None, request: gr.Request = None) -> str:  # type: ignore[assignment]
        try:
            return render.status_markdown(self.assistant_for(collection, request).status())
        except RagError as e:
            return f"Index unavailable: {e}"

    def llm_name(self) -> str:
        try:  # every collection's assistant shares the one model (rag/service/collections.py)
            assistant = self.pool.get()
            label = f"LLM: `{assistant.llm_name}`"
        except RagError as e:
            return f"LLM unavailable: {e}"
        answerer = getattr(assistant, "answerer", None)  # None: a remote `rag serve` answers
        if answerer is not None and not (answerer.writes() or answerer.restates()):
            # the embedded 135M model is configured but, by default, not asked (llm.restate)
            label += " (not called: each answer is composed from the passages)"
        return label

    def reindex(
        self,
        token: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> Iterator[str]:
        """Re-index the picked collection: needs the admin token; confined to the indexing
        roots."""
        admin = self.settings.security.admin_token
        try:
            check_admin(token or "", admin.get_secret_value() if admin else "")
        except RagError as e:
            yield f"Re-index refused: {e}"
            return
        yield "Re-indexing… unchanged papers are skipped, so this is quick when nothing changed."
        try:
            report = self.assistant_for(collection, request).index(confined=True)
        except RagError as e:
            yield f"Re-index failed: {e}"
            return
        yield render.report_markdown(report) + "  \n\n" + self.status(collection, request)


def _example_text(evt: gr.SelectData) -> str:
    return str(evt.value["text"])


def build_app(assistant: AssistantOrPool, settings: Settings) -> gr.Blocks:
    """The chat page over `assistant` (an `Assistant` or a `RemoteAssistant`)."""
    ctl = ChatController(assistant, settings)
    with gr.Blocks(title="Paper assistant", analytics_enabled=False) as app:
        turns = gr.State([])
        conv_id = gr.State(None)
        with gr.Sidebar(label="Conversations", open=True, width=280, elem_id="conv-sidebar"):
            gr.HTML('<div class="side-h">Conversations</div>')
            side_new = gr.Button("+ New chat", size="sm", elem_id="side-new-chat")
            conv_list = gr.Radio(
                choices=[],
                value=None,
                label="Saved conversations",
                show_label=False,
                elem_id="conversations",
                container=False,
            )
            with gr.Accordion("Rename or delete", open=False, elem_id="conv-edit"):
                conv_title = gr.Textbox(
                    label="Title", elem_id="conv-title", max_lines=1, placeholder="A new title"
                )
                with gr.Row():
                    rename = gr.Button("Rename", size="sm", elem_id="conv-rename", min_width=60)
                    drop = gr.Button(
                        "Delete", size="sm", variant="stop", elem_id="conv-delete", min_width=60
                    )
                with gr.Row():
                    export = gr.Button(
                        "Export as Markdown", size="sm", elem_id="conv-export", min_width=60
                    )
                    export_json = gr.Button(
                        "Export as JSON", size="sm", elem_id="conv-export-json", min_width=60
                    )
                exported = gr.File(label="Export", visible=False, elem_id="conv-exported")
        gr.HTML(
            "<h1>Paper assistant</h1><p>Answers about the papers in the collection and your own "
            "documents, every claim linked to the passage it comes from.</p>",
            elem_id="rag-header",
        )
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    label="Chat",
                    show_label=False,
                    height="calc(100dvh - 230px)",
                    min_height=360,
                    layout="bubble",
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder=(
                        "### Ask about the papers\nAnswers cite their sources as **[n]**; "
                        "the Sources panel shows each passage and opens its document."
                    ),
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(
                        elem_id="question",
                        placeholder="Ask a question about the collection…",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=8,
                        min_width=160,
                        autofocus=True,
                        container=False,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                    clear = gr.Button("New chat", scale=1, min_width=130, elem_id="new-chat")
                note = gr.HTML("", elem_id="feedback-note")
            with gr.Column(scale=2, min_width=300, elem_id="side-col"):
                # The logged-in user's collections, filled when the page loads (the page's
                # config names none); hidden until there are two to pick from. Custom values
                # reach the handlers, which check the user's grants (rag/service/access.py).
                picker = gr.Dropdown(
                    choices=[],
                    value=None,
                    label="Collection",
                    elem_id="collection",
                    visible=False,
                    interactive=True,
                    allow_custom_value=True,
                )
                # The source panel (SOURCE_PANEL_JS): hidden until a source is shown.
                gr.HTML(SOURCE_PANEL_HTML, elem_id="source-panel-box", padding=False)
                gr.HTML('<div class="side-h">Sources</div>', elem_id="sources-h")
                sources = gr.HTML(
                    render.sources_panel(None), elem_id="sources-panel", max_height=640
                )
                with gr.Accordion("Settings", open=False, elem_id="settings"):
                    k = gr.Slider(
                        1, 10, value=settings.retrieval.top_k, step=1, label="Passages (k)"
                    )
                    hybrid = gr.Checkbox(
                        value=settings.retrieval.mode == "hybrid",
                        label="Hybrid retrieval (vector + BM25)",
                        info="Off: vector search only.",
                    )
                    llm = gr.Markdown("LLM: loading…", elem_id="llm-name")
                with gr.Accordion("Index", open=False, elem_id="index-panel"):
                    status = gr.Markdown("…", elem_id="index-status")
                    can_index = settings.security.admin_token is not None
                    admin_token = gr.Textbox(
                        label="Admin token",
                        type="password",
                        elem_id="admin-token",
                        visible=can_index,
                    )
                    files = gr.File(
                        label=f"Add documents ({' '.join(sorted(SUPPORTED))}): drop them here",
                        file_count="multiple",
                        # No `file_types`: a file of another type reaches the library's check,
                        # which names it and the types it reads (Gradio would drop it silently).
                        elem_id="upload",
                        height=120,
                        interactive=can_index,
                        visible=can_index,
                    )
                    upload_report = gr.HTML("", elem_id="upload-report")
                    documents = gr.CheckboxGroup(
                        choices=[],
                        label="Your documents",
                        info="Tick to delete.",
                        elem_id="documents",
                        visible=can_index,
                    )
                    delete_docs = gr.Button(
                        "Delete ticked documents",
                        size="sm",
                        variant="stop",
                        elem_id="delete-docs",
                        visible=can_index,
                    )
                    reindex = gr.Button(
                        "Re-index collection" if can_index else "Re-indexing is off here",
                        size="sm",
                        elem_id="reindex",
                        interactive=can_index,
                    )
                    gr.Markdown(
                        INDEX_OFF_HINT,
                        elem_id="index-off",
                        visible=not can_index,
                    )

        chat_io: dict[str, Any] = {
            "fn": ctl.respond,
            "inputs": [question, chatbot, k, hybrid, turns, picker],
            "outputs": [question, chatbot, turns, sources],
            "concurrency_id": "assistant",
            "concurrency_limit": 1,
        }
        # Saving a turn and renaming or deleting a conversation each rewrite the sidebar from the
        # store: one at a time, so a listing read before a rename cannot land after it (a rename
        # made just as an answer was saved was shown with its old title)
        listing: dict[str, Any] = {"concurrency_id": "conversations", "concurrency_limit": 1}
        save_io: dict[str, Any] = {
            "fn": ctl.save_turns,
            "inputs": [turns, conv_id],
            "outputs": [turns, conv_id, conv_list, note],
            "api_visibility": "private",
            **listing,
        }
        send.click(api_name="chat", **chat_io).then(**save_io)
        question.submit(api_visibility="private", **chat_io).then(**save_io)
        chatbot.example_select(
            _example_text,
            None,
            question,
            api_visibility="private",
        ).then(api_visibility="private", **chat_io).then(**save_io)
        chatbot.like(ctl.rate, [turns], note, api_visibility="private")
        chatbot.select(ctl.show_sources, [turns], sources, api_visibility="private")
        fresh = [chatbot, turns, sources, question, conv_id, conv_list, conv_title, note]
        for button in (clear, side_new):
            button.click(ctl.new_chat, None, fresh, api_visibility="private")
        chatbot.clear(ctl.new_chat, None, fresh, api_visibility="private")
        conv_list.input(
            ctl.open_conversation,
            conv_list,
            [chatbot, turns, sources, conv_id, conv_title],
            api_visibility="private",
        ).then(None, js=CLOSE_SIDEBAR_ON_PHONE_JS)
        rename.click(
            ctl.rename_conversation,
            [conv_id, conv_title],
            [conv_list, note],
            api_visibility="private",
            **listing,
        )
        drop.click(ctl.delete_conversation, conv_id, fresh, api_visibility="private", **listing)
        export.click(ctl.export_conversation, conv_id, [exported, note], api_visibility="private")
        export_json.click(ctl.export_json, conv_id, [exported, note], api_visibility="private")
        files.upload(
            ctl.upload,
            [files, admin_token, picker],
            [upload_report, documents, status, files],
            concurrency_id="assistant",
            concurrency_limit=1,
            api_visibility="private",
        ).then(None, js=SHOW_UPLOAD_REPORT_JS)
        delete_docs.click(
            ctl.delete_documents,
            [documents, admin_token, picker],
            [upload_report, documents, status],
            concurrency_id="assistant",
            concurrency_limit=1,
            api_visibility="private",
        ).then(None, js=SHOW_UPLOAD_REPORT_JS)
        reindex.click(
            ctl.reindex,
            [admin_token, picker],
            status,
            concurrency_id="assistant",
            concurrency_limit=1,
            api_name="reindex",
        )
        app.load(None, js=PAGE_LOAD_JS)
        # The picker first: the status and the documents are the picked collection's.
        picked = app.load(ctl.collection_picker, None, picker, api_visibility="private")
        picked.then(ctl.status, picker, status, api_visibility="private")
        # Another collection: a new chat (its history was about the other), its status, files.
        picker.input(ctl.new_chat, None, fresh, api_visibility="private").then(
            ctl.status, picker, status, api_visibility="private"
        )
        app.load(ctl.llm_name, None, llm, api_visibility="private")
        app.load(ctl.conversation_list, None, conv_list, api_visibility="private")
        if can_index:
            listed = [admin_token, picker]
            admin_token.change(None, admin_token, None, js=ADMIN_COOKIE_JS)
            admin_token.change(ctl.documents_for, listed, documents, api_visibility="private")
            picked.then(ctl.documents_for, listed, documents, api_visibility="private")
            picker.input(ctl.documents_for, listed, documents, api_visibility="private")
    app.rag_controller = ctl  # type: ignore[attr-defined]  # for `launch`'s document route
    return app


def add_document_route(app: gr.Blocks, library: Any) -> None:
    """`GET /document/{doc_id}?hl=<sentence>`: the source view (rag/service/source_view.py: the
    document's stored text with the cited sentence marked, a link to the original file), and
    `GET /document/{doc_id}/file`: the file an indexed document comes from, if it lies under the
    indexing roots (`Library.open`, which checks `rag.ingest.paths.confine`). Both behind the UI's
    login. HTML files are served sandboxed (no scripts, their own origin); nothing is sniffed.
    With the app's controller, only documents of the logged-in user's collections are served;
    where no store can be read (a UI over `api_url`) the view is the file itself."""
    server: Any = app.server_app
    controller = getattr(app, "rag_controller", None)

    def user(request: Request) -> tuple[bool, str | None]:
        """(logged in, the username: None when the UI has no login)."""
        if getattr(server, "auth", None) is None:
            return True, None
        cookie = request.cookies.get(f"access-token-{server.cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{server.cookie_id}"
        )
        name = server.tokens.get(cookie)
        return name is not None, str(name) if name is not None else None

    def open_file(doc_id: str, username: str | None) -> Path:
        if controller is not None:
            return controller.open_document(doc_id, username)  # type: ignore[no-any-return]
        return library.open(doc_id)  # type: ignore[no-any-return]

    async def document_file(doc_id: str, request: Request) -> Response:
        logged_in, username = user(request)
        if not logged_in:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        try:
            path = await run_in_threadpool(open_file, doc_id, username)
        except RagError:
            return JSONResponse({"detail": "No such document."}, status_code=404)
        return original_file_response(path)

    async def document(doc_id: str, request: Request, hl: str = "") -> Response:
        logged_in, username = user(request)
        if not logged_in:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        if controller is None:
            return await document_file(doc_id, request)
        try:
            doc = await run_in_threadpool(controller.read_document, doc_id, username)
        except RagError:
            return await document_file(doc_id, request)  # no store here, or 404 as the file's
        try:
            await run_in_threadpool(open_file, doc_id, username)
            file_url = original_url(doc_id, doc.page)
        except RagError:
            file_url = ""  # indexed, but its file is gone or lies outside the roots
        page = source_view_html(doc, hl[:2000], file_url)
        return HTMLResponse(page, headers=VIEW_HEADERS)

    for path, endpoint in (
        ("/document/{doc_id}/file", document_file),
        ("/document/{doc_id}", document),
    ):
        server.add_api_route(path, endpoint, methods=["GET"])
        server.router.routes.insert(0, server.router.routes.pop())  # before any route of Gradio's


def add_metrics_route(app: gr.Blocks, settings: Settings, assistant: AssistantOrPool) -> None:
    """`GET /metrics` (rag/core/metrics.py) on the UI's server, before Gradio's own routes. With a
    login, scraping needs `telemetry.metrics_token` or the admin token (`scrape_allowed`)."""
    if not settings.telemetry.metrics:
        return
    local = assistant.get() if isinstance(assistant, Collections | RemoteCollections) else assistant
    status = local.status if hasattr(local, "store") else None  # in-process: its index's figures
    observe.watch(settings, status)
    server: Any = app.server_app
    protected = bool(settings.ui.username and settings.ui.password) or bool(settings.access.users)
    server.add_route("/metrics", metrics.metrics_endpoint(settings, protected))
    server.router.routes.insert(0, server.router.routes.pop())


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """`Blocks.launch` options: the settings' host/port/login, and nothing that calls out."""
    ui = settings.ui
    guard = None
    if ui.username or ui.password or settings.access.users:
        guard = login_guard(settings)  # ui.username and access.users
    return {
        "server_name": ui.host,
        "server_port": ui.port,
        # A callable, not the (username, password) pair: wrong passwords are limited (login.py).
        "auth": guard.gradio_auth if guard else None,
        "auth_message": guard.message() if guard else None,
        "share": False,
        "quiet": True,  # no banner, no "set `share=True`" hint: `launch` logs one line itself
        "show_error": False,
        "theme": make_theme(),
        "css": CSS,
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "run_history": False,
        "max_file_size": settings.security.max_file_bytes,
        # Gradio's upload route for the admin only; every body bounded as it arrives.
        "app_kwargs": {"middleware": [Middleware(UploadGuard, settings=settings)]},
    }


@contextmanager
def bounded_headers(settings: Settings) -> Iterator[None]:
    """While `Blocks.launch` runs, the uvicorn server Gradio builds uses h11 with a bound on
    the request head (`server_options`). Gradio 6.31 makes its `uvicorn.Config` inside
    launch() and takes no server options, and the default parser (httptools) holds headers of
    any size; Gradio reads `uvicorn.Config` from the module when it starts, so this swaps it for
    that moment only."""
    import uvicorn

    original = uvicorn.Config
    bounded = partial(original, **server_options(settings.security))
    uvicorn.Config = bounded  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        uvicorn.Config = original  # type: ignore[misc]


def _warm_up(assistant: AssistantLike) -> None:
    """Load the LLM while the server starts, so the first question does not wait for it."""
    try:
        _ = assistant.llm_name
    except RagError as e:  # the first question will report it as a chat message
        log.warning("could not load the LLM at start-up: %s", e)
    except Exception:
        log.warning("could not load the LLM at start-up", exc_info=True)


def launch(settings: Settings, insecure: bool = False) -> None:
    """Serve the chat UI (blocking) on `settings.ui.host:port`; a non-loopback address needs a
    login (or `insecure`)."""
    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    ui = settings.ui
    login = "a login (RAG_UI__USERNAME and RAG_UI__PASSWORD)"
    has_login = bool(ui.username and ui.password) or bool(settings.access.users)
    check_exposure(ui.host, has_login, insecure, login)
    kwargs = launch_kwargs(settings)
    assistant = make_assistant(settings)
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    app = build_app(assistant, settings)
    app.queue(default_concurrency_limit=1)
    with bounded_headers(settings):
        app.launch(prevent_thread_lock=True, **kwargs)
    add_document_route(app, app.rag_controller.library)  # type: ignore[attr-defined]
    add_metrics_route(app, settings, assistant)
    log.info("UI on http://%s:%d", ui.host, ui.port)
    app.block_thread()
