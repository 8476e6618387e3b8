"""The Gradio chat app: it translates between the page and an `Assistant`, nothing more.

`build_app(assistant, settings)` makes the Blocks (testable, mountable); `launch(settings)` serves
it on `settings.ui` host/port/login, offline (no analytics, no share link, no web fonts).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag.api import check_admin
from rag.client import make_assistant
from rag.errors import RagError
from rag.feedback import FeedbackStore
from rag.network import check_exposure
from rag.settings import Settings
from rag.types import Answer, AnswerEvent, SourcesEvent, StatusEvent
from rag.ui import render
from rag.ui.login import login_guard
from rag.ui.theme import CSS, make_theme

log = logging.getLogger(__name__)

EXAMPLES = [
    "Which paper quantizes the KV cache by identifying salient tokens?",
    "How does the Big Little Decoder speed up text generation?",
    "Which method removes whole layers of LLaMA to make inference faster?",
    "What is a layer-condensed KV cache?",
]

Message = dict[str, Any]
Turn = dict[str, Any]  # {"question": str, "answer": Answer, "message_index": int}
ChatOutput = tuple[Any, list[Message], list[Turn], Any]


class ChatController:
    """The event handlers, bound to one assistant and one feedback store."""

    def __init__(self, assistant: Any, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.feedback = FeedbackStore.from_settings(settings)

    # -- chat -------------------------------------------------------------------------------
    def respond(
        self,
        question: str,
        chat: list[Message] | None,
        k: float,
        hybrid: bool,
        turns: list[Turn] | None,
    ) -> Iterator[ChatOutput]:
        """Status lines and the retrieved sources while it works, then the checked answer."""
        chat, turns = list(chat or []), list(turns or [])
        question = (question or "").strip()
        if question:
            chat.append({"role": "user", "content": question})
        chat.append({"role": "assistant", "content": render.pending_message()})
        yield "", chat, turns, gr.skip()

        history = [(t["question"], t["answer"].text) for t in turns]
        answer: Answer | None = None
        try:
            events = self.assistant.stream(
                question, history=history, k=int(k), **self._mode_kwargs(hybrid)
            )
            for event in events:
                # Only status lines, the retrieved sources and checked text are shown.
                if isinstance(event, StatusEvent):
                    chat[-1] = {"role": "assistant", "content": render.pending_message(event.text)}
                    yield gr.skip(), chat, turns, gr.skip()
                elif isinstance(event, SourcesEvent):
                    found = Answer(question=question, text="", passages=event.passages)
                    yield gr.skip(), chat, turns, render.sources_panel(found, len(turns))
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
        turn = len(turns)
        chat[-1] = {"role": "assistant", "content": render.answer_message(answer, turn)}
        turns.append({"question": question, "answer": answer, "message_index": len(chat) - 1})
        yield gr.skip(), chat, turns, render.sources_panel(answer, turn)

    def _mode_kwargs(self, hybrid: bool) -> dict[str, str]:
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
        return render.sources_panel(t["answer"], i)

    def rate(self, turns: list[Turn] | None, evt: gr.LikeData) -> None:
        """Thumbs up / down: store the rating with the question, answer and citations."""
        found = self._turn_at(turns, evt.index)
        if found is None or not isinstance(evt.liked, bool):
            return
        rating = 1 if evt.liked else -1
        self.feedback.record(found[1]["answer"], rating=rating, channel="ui")
        gr.Info("Thanks, feedback saved." if rating > 0 else "Thanks, noted for review.")

    @staticmethod
    def new_chat() -> tuple[list[Message], list[Turn], str, str]:
        return [], [], render.sources_panel(None, 0), ""

    # -- side panels ------------------------------------------------------------------------
    def status(self) -> str:
        try:
            return render.status_markdown(self.assistant.status())
        except RagError as e:
            return f"Index unavailable: {e}"

    def llm_name(self) -> str:
        try:
            return f"LLM: `{self.assistant.llm_name}`"
        except RagError as e:
            return f"LLM unavailable: {e}"

    def reindex(self, token: str) -> Iterator[str]:
        """Re-index the collection: needs the admin token; confined to the indexing roots."""
        admin = self.settings.security.admin_token
        try:
            check_admin(token or "", admin.get_secret_value() if admin else "")
        except RagError as e:
            yield f"Re-index refused: {e}"
            return
        yield "Re-indexing… unchanged papers are skipped, so this is quick when nothing changed."
        try:
            report = self.assistant.index(confined=True)
        except RagError as e:
            yield f"Re-index failed: {e}"
            return
        yield render.report_markdown(report) + "  \n\n" + self.status()


def _example_text(evt: gr.SelectData) -> str:
    return str(evt.value["text"])


def build_app(assistant: Any, settings: Settings) -> gr.Blocks:
    """The chat page over `assistant` (an `Assistant` or a `RemoteAssistant`)."""
    ctl = ChatController(assistant, settings)
    with gr.Blocks(title="Paper assistant", analytics_enabled=False) as app:
        turns = gr.State([])
        with gr.Row(equal_height=False):
            gr.HTML(
                "<h1>Paper assistant</h1><p>Answers about the ML-efficiency papers in the "
                "collection, every claim linked to the passage it comes from.</p>",
                elem_id="rag-header",
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    label="Chat",
                    show_label=False,
                    height=560,
                    layout="bubble",
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder=(
                        "### Ask about the papers\nAnswers cite their sources as **[n]**; "
                        "the Sources panel on the right shows each passage."
                    ),
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="question",
                        placeholder="Ask a question about the collection…",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=8,
                        autofocus=True,
                        container=False,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    clear = gr.Button("New chat", scale=1, min_width=120, elem_id="new-chat")
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("#### Sources")
                sources = gr.HTML(
                    render.sources_panel(None, 0), elem_id="sources-panel", max_height=600
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
                    reindex = gr.Button(
                        "Re-index collection" if can_index else "Re-indexing is off here",
                        size="sm",
                        elem_id="reindex",
                        interactive=can_index,
                    )

        chat_io: dict[str, Any] = {
            "fn": ctl.respond,
            "inputs": [question, chatbot, k, hybrid, turns],
            "outputs": [question, chatbot, turns, sources],
            "concurrency_id": "assistant",
            "concurrency_limit": 1,
        }
        send.click(api_name="chat", **chat_io)
        question.submit(api_visibility="private", **chat_io)
        chatbot.example_select(
            _example_text,
            None,
            question,
            api_visibility="private",
        ).then(api_visibility="private", **chat_io)
        chatbot.like(ctl.rate, [turns], None, api_visibility="private")
        chatbot.select(ctl.show_sources, [turns], sources, api_visibility="private")
        clear.click(
            ctl.new_chat, None, [chatbot, turns, sources, question], api_visibility="private"
        )
        chatbot.clear(
            ctl.new_chat, None, [chatbot, turns, sources, question], api_visibility="private"
        )
        reindex.click(
            ctl.reindex,
            admin_token,
            status,
            concurrency_id="assistant",
            concurrency_limit=1,
            api_name="reindex",
        )
        app.load(ctl.status, None, status, api_visibility="private")
        app.load(ctl.llm_name, None, llm, api_visibility="private")
    return app


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """`Blocks.launch` options: the settings' host/port/login, and nothing that calls out."""
    ui = settings.ui
    guard = None
    if ui.username or ui.password:
        if not (ui.username and ui.password):
            raise RagError("UI login needs both ui.username and ui.password (RAG_UI__USERNAME/…).")
        guard = login_guard(settings)
    return {
        "server_name": ui.host,
        "server_port": ui.port,
        # A callable, not the (username, password) pair: wrong passwords are limited (login.py).
        "auth": guard.gradio_auth if guard else None,
        "auth_message": guard.message() if guard else None,
        "share": False,
        "show_error": False,
        "theme": make_theme(),
        "css": CSS,
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "run_history": False,
    }


def _warm_up(assistant: Any) -> None:
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
    ui = settings.ui
    login = "a login (RAG_UI__USERNAME and RAG_UI__PASSWORD)"
    check_exposure(ui.host, bool(ui.username and ui.password), insecure, login)
    kwargs = launch_kwargs(settings)
    assistant = make_assistant(settings)
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    app = build_app(assistant, settings)
    app.queue(default_concurrency_limit=1)
    app.launch(**kwargs)
