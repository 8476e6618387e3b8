"""The one public entry point: `Assistant` ties indexing, retrieval and answering together.

Every face (CLI, Gradio UI, Slack bot, HTTP API, eval harness) talks to this class and nothing
below it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from rag.answer.answering import Answerer
from rag.answer.citations import with_cited_sentences
from rag.answer.llm import ChatModel
from rag.core import metrics
from rag.core.errors import (
    EmptyQuestionError,
    PathNotFoundError,
    QuestionTooLongError,
    RagError,
    StoreError,
)
from rag.core.locking import index_lock
from rag.core.settings import Settings
from rag.core.types import (
    Answer,
    AnswerEvent,
    IndexReport,
    IndexStatus,
    Passage,
    SourcesEvent,
    StreamEvent,
    TokenEvent,
)
from rag.ingest.manifest import write_manifest
from rag.search.retrieval import HybridRetriever
from rag.storage.chroma import Store, discard, store_failure
from rag.storage.manifest import manifest_path, read_manifest, recorded_build

if TYPE_CHECKING:  # imported when first used: indexing imports llama-index (1.6 s), a question not
    from rag.ingest.indexer import Indexer, RebuildPlan

log = logging.getLogger("rag")

History = Sequence[tuple[str, str]]
HISTORY_TURNS = 10


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
        store: Store | None = None,
        collection: str | None = None,
        llm: ChatModel | None = None,
        **overrides: Any,
    ) -> None:
        """`collection`: a named collection instead of the one `settings` are aimed at (the
        default: `store.collection`); `llm`: a model shared with other assistants."""
        self.settings = settings or Settings(**overrides)
        if collection is not None:
            self.settings = self.settings.for_collection(collection)
        self._llm = llm
        self._progress = progress
        # A damaged store, or one emptied although the manifest records a build, raises
        # DamagedIndexError here (Store.verify): it is never silently rebuilt from the corpus.
        self.store = store or Store(self.settings)
        self._indexer: Indexer | None = None
        self.retriever = HybridRetriever(self.settings, self.store)
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()
        if (
            build_index
            and self.store.count() == 0
            # built before: only `rebuild` refills it
            and recorded_build(self.settings, self.store.describe()) is None
            and Path(self.settings.corpus_dir).exists()
        ):
            self.index()

    @classmethod
    def rebuild(
        cls,
        settings: Settings | None = None,
        paths: Sequence[str | Path] | None = None,
        *,
        progress: bool = True,
        on_plan: Callable[[RebuildPlan], None] | None = None,
    ) -> tuple[Assistant, RebuildPlan, IndexReport]:
        """Rebuild the index from scratch, explicitly (`rag index --rebuild`): from `paths`, or
        every file and folder the manifest records as indexed (the corpus when none are).

        `on_plan` hears the plan before anything is touched. Recorded roots that no longer exist
        are in the plan's `missing` and skipped; if none exists, nothing is touched. The old
        store is moved aside (`<index_dir>/chroma.damaged-<timestamp>`), never deleted."""
        from rag.ingest.indexer import plan_rebuild

        settings = settings or Settings()
        plan = plan_rebuild(settings, paths)
        if on_plan is not None:
            on_plan(plan)
        if not plan.roots:
            raise PathNotFoundError(
                "None of the files or folders to rebuild from exists any more "
                f"({', '.join(map(str, plan.missing))}): nothing was changed. Name the folders "
                "to read: `rag index --rebuild PATH...`."
            )
        lock = Path(settings.index_dir) / f"{settings.store.collection}.lock"  # Indexer.index's
        try:
            with index_lock(lock, settings.index_lock_timeout_s):  # no writer mid-run
                plan.moved_to = discard(settings)
                # The manifest keeps recording the old build until the new one is written: a
                # rebuild cut short still reports the index damaged. Its roots become this one's.
                manifest = manifest_path(settings)
                roots = [*plan.roots, *plan.missing]
                write_manifest(manifest, read_manifest(manifest), roots, settings, keep_roots=False)
            store = Store(settings, verify=False)  # empty now, though the manifest records a build
        except Exception as e:
            found = store_failure(e, settings)
            if found is None:
                raise
            raise found from e
        a = cls(settings, build_index=False, progress=progress, store=store)
        report = a.index(plan.roots)
        return a, plan, report

    @property
    def indexer(self) -> Indexer:
        """Made on first use: a process that only answers never imports the indexing code."""
        with self._lock:
            if self._indexer is None:
                from rag.ingest.indexer import Indexer

                self._indexer = Indexer(self.settings, self.store)
            return self._indexer

    @property
    def answerer(self) -> Answerer:
        """The LLM is loaded on first use: retrieval-only callers never pay for it."""
        with self._lock:
            if self._answerer is None:
                self._answerer = Answerer(self.settings, self.retriever, self._llm)
            return self._answerer

    def warm_up(self) -> None:
        """Start loading the LLM now (its process loads in the background) instead of on the
        first question, and load the lexical index (from disk: rag/storage/lexical.py). One
        console line, "model ready", says when the model answers."""
        llm = self.answerer.llm
        with _announce_lock:  # one line per model, however many collections share it
            if id(llm) not in _announced:
                _announced.add(id(llm))
                threading.Thread(target=announce_ready, args=(llm,), daemon=True).start()
        if self.settings.retrieval.mode != "vector":
            with store_errors(self.store.describe()):
                self.retriever.fresh_lexical()

    def index(
        self,
        paths: Sequence[str | Path] | None = None,
        *,
        confined: bool = False,
        within: Sequence[str | Path] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Index files or folders (default: the configured corpus); incremental and resumable.

        `confined=True` (the API and the UI) accepts only paths under the indexing roots, within
        the request caps; `within` keeps the walk inside those folders (the watcher's); `on_wait`
        hears when another index run holds the index."""
        with store_errors(self.store.describe()):
            report = self.indexer.index(
                paths,
                progress=self._progress,
                confined=confined,
                within=within,
                on_wait=on_wait,
            )
        self.retriever.invalidate()
        return report

    def status(self) -> IndexStatus:
        with store_errors(self.store.describe()):
            return self.indexer.status()

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Passage]:
        """The k best passages for a question, hybrid (vector + BM25) by default."""
        with metrics.retrieval(self.settings.store.collection):
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
        limit = self.settings.max_question_chars
        watch = metrics.question(self.settings.store.collection)  # counted for the current face
        with watch.errors():
            question = clean_question(question, limit)
            # Only the last turns matter for a follow-up, and none may be longer than a question.
            turns = [(q[:limit], a[:limit]) for q, a in list(history or [])[-HISTORY_TURNS:]]
            events = self.answerer.stream(question, turns, k=k, mode=mode, restate=restate)
        return watch.stream(_guarded(_cited_sentences(events), self.store.describe()))

    @property
    def llm_name(self) -> str:
        return self.answerer.llm.name

    def forget(self, paths: Sequence[str | Path]) -> int:
        """Remove the documents of the files `paths` from the index (the files themselves are
        the caller's: rag/ingest/library.py deletes an upload); returns the documents removed."""
        with store_errors(self.store.describe()):
            removed = self.indexer.forget(paths)
        self.retriever.invalidate()
        return removed


_announced: set[int] = set()  # the models whose readiness is being, or was, announced
_announce_lock = threading.Lock()


def announce_ready(llm: ChatModel) -> None:
    """Log "model ready" once `llm` answers (a local model's process has loaded it; a remote one
    is taken as ready), or a warning saying why it did not start."""
    process = getattr(llm, "process", None)
    try:
        if process is not None:
            process.wait_ready()
    except RagError as e:
        log.warning("model not ready: %s", e)
        return
    log.info("model ready (%s)", getattr(llm, "name", "llm"))


@contextmanager
def store_errors(where: str) -> Iterator[None]:
    """A store that stops answering mid-session (a Chroma server gone) is a StoreError; so is a
    failure of its files (a full disk, a read-only or damaged index: rag/storage/chroma.py)."""
    try:
        yield
    except (httpx.TransportError, ConnectionError) as e:
        raise StoreError(f"The vector store ({where}) stopped answering: {e}") from e
    except Exception as e:
        failure = store_failure(e, where=where)
        if failure is None:
            raise
        raise failure from e


def _cited_sentences(events: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    """The stream with each citation's `sentence` set (rag/answer/citations.py): the passage
    sentence its first claim rests on, computed once here so that every face's source view (UI
    panel, API annotation, Slack, CLI) highlights the same sentence."""
    passages: list[Passage] = []
    received = ""
    for ev in events:
        if isinstance(ev, SourcesEvent):
            passages = ev.passages
        elif isinstance(ev, TokenEvent):
            received += ev.text
            if ev.citations:
                cites = with_cited_sentences(received, ev.citations, passages)
                ev = ev.model_copy(update={"citations": cites})
        elif isinstance(ev, AnswerEvent) and ev.answer.citations:
            a = ev.answer
            cites = with_cited_sentences(a.text, a.citations, a.passages or passages)
            ev = AnswerEvent(answer=a.model_copy(update={"citations": cites}))
        yield ev


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
