"""The one public entry point: `Assistant` ties indexing, retrieval and answering together.

Every face (CLI, Gradio UI, Slack bot, HTTP API, eval harness) talks to this class and nothing
below it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from rag.answering import Answerer
from rag.errors import EmptyQuestionError, QuestionTooLongError, StoreError
from rag.indexer import Indexer
from rag.retrieval import HybridRetriever
from rag.settings import Settings
from rag.store import Store
from rag.types import Answer, AnswerEvent, IndexReport, IndexStatus, Passage, StreamEvent

History = Sequence[tuple[str, str]]


class Assistant:
    """Answers questions about a document collection, citing the passages it used.

    >>> a = Assistant()                       # builds the index of the default corpus if missing
    >>> a.ask("Which method shares parameters across layers?").citations
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        build_index: bool = True,
        progress: bool = True,
        **overrides: Any,
    ) -> None:
        self.settings = settings or Settings(**overrides)
        self._progress = progress
        self.store = Store(self.settings)
        self.indexer = Indexer(self.settings, self.store)
        self.retriever = HybridRetriever(self.settings, self.store)
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()
        if build_index and self.store.count() == 0 and Path(self.settings.corpus_dir).exists():
            self.index()

    @property
    def answerer(self) -> Answerer:
        """The LLM is loaded on first use: retrieval-only callers never pay for it."""
        with self._lock:
            if self._answerer is None:
                self._answerer = Answerer(self.settings, self.retriever)
            return self._answerer

    def warm_up(self) -> None:
        """Start loading the LLM now (its process loads in the background) instead of on the
        first question."""
        _ = self.answerer

    def index(self, paths: Sequence[str | Path] | None = None) -> IndexReport:
        """Index files or folders (default: the configured corpus); incremental and resumable."""
        with store_errors(self.store.describe()):
            report = self.indexer.index(paths, progress=self._progress)
        self.retriever.invalidate()
        return report

    def status(self) -> IndexStatus:
        with store_errors(self.store.describe()):
            return self.indexer.status()

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Passage]:
        """The k best passages for a question, hybrid (vector + BM25) by default."""
        question = clean_question(question, self.settings.max_question_chars)
        with store_errors(self.store.describe()):
            return self.retriever.retrieve(question, k=k, mode=mode)

    def ask(
        self,
        question: str,
        history: History | None = None,
        k: int | None = None,
        mode: str | None = None,
        restate: bool | None = None,
    ) -> Answer:
        """A checked, cited answer, or an abstention when the collection does not hold one.

        `restate=False` answers with the lead composed from the evidence, without the LLM."""
        answer: Answer | None = None
        for event in self.stream(question, history=history, k=k, mode=mode, restate=restate):
            if isinstance(event, AnswerEvent):
                answer = event.answer
        assert answer is not None  # stream() always ends with the answer
        return answer

    def stream(
        self,
        question: str,
        history: History | None = None,
        k: int | None = None,
        mode: str | None = None,
        restate: bool | None = None,
    ) -> Iterator[StreamEvent]:
        """`StatusEvent`s while it works, a `SourcesEvent` once retrieval is done, `TokenEvent`s
        of checked text only (their concatenation is the answer's text), then one
        `AnswerEvent` with the checked answer.

        `mode` overrides the retrieval mode ("hybrid", "vector", "bm25") for this question.
        """
        question = clean_question(question, self.settings.max_question_chars)
        events = self.answerer.stream(
            question, list(history or []), k=k, mode=mode, restate=restate
        )
        return _guarded(events, self.store.describe())

    @property
    def llm_name(self) -> str:
        return self.answerer.llm.name


@contextmanager
def store_errors(where: str) -> Iterator[None]:
    """A store that stops answering mid-session (a Chroma server gone) is a StoreError."""
    try:
        yield
    except (httpx.TransportError, ConnectionError) as e:
        raise StoreError(f"The vector store ({where}) stopped answering: {e}") from e


def _guarded(events: Iterator[StreamEvent], where: str) -> Iterator[StreamEvent]:
    with store_errors(where):
        yield from events


def clean_question(question: str, limit: int | None = None) -> str:
    """The question with its whitespace collapsed; empty or over-long ones are refused."""
    q = " ".join((question or "").split())
    if not q:
        raise EmptyQuestionError("The question is empty: ask something about the collection.")
    limit = limit or Settings.model_fields["max_question_chars"].default
    if len(q) > limit:
        raise QuestionTooLongError(
            f"The question is {len(q)} characters long; the limit is {limit} "
            "(max_question_chars). Ask a shorter question."
        )
    return q
