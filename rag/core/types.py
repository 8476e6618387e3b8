"""The data every face of the assistant exchanges: passages, citations, answers, reports.

Pydantic models, so the HTTP API, the UI and the eval harness serialise them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """A retrieved chunk of a document, with the scores that ranked it."""

    text: str
    score: float
    title: str
    source: str
    doc_id: str
    chunk_id: str = ""
    sources: list[str] = Field(default_factory=list)
    number: int = 0  # its [n] in the prompt, once an answer numbers the passages
    vector_score: float | None = None  # cosine similarity to the question
    bm25_score: float | None = None
    # Where in its document the chunk lies, for a reader: the PDF page (1-based), the heading
    # path of a Markdown/HTML section ("Methods › Results"), a readable name for the source
    # (a listing's own name and date, an uploaded file's name).
    page: int | None = None
    section: str = ""
    label: str = ""


class Citation(BaseModel):
    """A passage an answer cites as [number], with the part of it that supports the claim."""

    number: int
    title: str
    source: str
    snippet: str
    score: float
    doc_id: str = ""
    page: int | None = None  # see Passage
    section: str = ""
    label: str = ""
    # The passage's sentence that the claim carrying [number] rests on (the first such claim):
    # what the source view highlights (rag/answer/citations.py `with_cited_sentences`); "" for
    # none known, the view then marks the snippet.
    sentence: str = ""


class Answer(BaseModel):
    """A checked answer: every [n] in `text` is a citation listed in `citations`."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    passages: list[Passage] = Field(default_factory=list)
    standalone_question: str = ""
    fallback: bool = False  # the lead was composed from the evidence, not the LLM's sentence
    not_stated: str = ""  # when abstained: "off_topic", "subject" or "attribute"
    removed_citations: int = 0  # citations the check dropped or moved
    llm: str = ""
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per stage
    tokens_in: int = 0
    tokens_out: int = 0
    raw_text: str = ""  # what the LLM wrote, before the checks (never shown to a reader)

    def quotes(self, c: Citation) -> bool:
        """Does the text already quote this citation's snippet word for word? (A face then
        lists the source without repeating the same sentence under it.)"""

        def plain(s: str) -> str:
            return " ".join(re.sub(r"\[\d+\]", " ", s).split()).casefold().rstrip(" .…")

        return bool(c.snippet) and plain(c.snippet) in plain(self.text)


class SourcesEvent(BaseModel):
    """The retrieved passages, as soon as retrieval is done (before any answer text)."""

    type: Literal["sources"] = "sources"
    passages: list[Passage]


class StatusEvent(BaseModel):
    """What the assistant is doing ("searching…", "writing…"); never answer text."""

    type: Literal["status"] = "status"
    text: str


class TokenEvent(BaseModel):
    """A piece of the answer a reader may see: only checked text, always a prefix of the final
    `Answer.text` (no unchecked draft ever reaches a reader)."""

    type: Literal["token"] = "token"
    text: str
    # The answer's citations when this text and its [n] numbers are final (the rest of the
    # answer may follow): a face may show its sources and links at once. None: not known yet.
    citations: list[Citation] | None = None


class AnswerEvent(BaseModel):
    """The last event of a stream: the final, checked answer."""

    type: Literal["answer"] = "answer"
    answer: Answer


StreamEvent = SourcesEvent | StatusEvent | TokenEvent | AnswerEvent


class FailedFile(BaseModel):
    path: str
    reason: str


class FlaggedSentence(BaseModel):
    """A sentence of a document that addresses the model; excluded from answers."""

    path: str
    title: str
    sentence: str


class IndexReport(BaseModel):
    """What an index run did, document by document."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0  # unchanged documents, not embedded again
    failed: list[FailedFile] = Field(default_factory=list)  # could not be read or split
    ignored: list[FailedFile] = Field(default_factory=list)  # left out by the walk, with why
    flagged: list[FlaggedSentence] = Field(default_factory=list)  # instructions in documents
    chunks_embedded: int = 0
    documents: int = 0  # documents in the collection after the run
    chunks: int = 0  # chunks in the collection after the run
    seconds: float = 0.0

    def summary(self) -> str:
        line = (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"skipped {self.skipped} unchanged, failed {len(self.failed)}, "
            f"ignored {len(self.ignored)} files, "
            f"{len(self.flagged)} instruction-like sentences excluded (new or changed documents); "
            f"{self.chunks_embedded} chunks embedded; collection: {self.documents} documents, "
            f"{self.chunks} chunks ({self.seconds:.1f}s)"
        )
        return line


class IndexStatus(BaseModel):
    collection: str
    documents: int
    chunks: int
    last_build: str | None = None  # ISO timestamp of the last completed index run
    embedding_model: str = ""
    store: str = ""


class ConversationSummary(BaseModel):
    """One saved conversation in its owner's list (rag/state/conversations.py), newest first."""

    id: str
    title: str
    created: float  # time.time() when first saved
    updated: float  # time.time() of the last save


class Conversation(ConversationSummary):
    """A saved conversation: its turns as saved (JSON-serialisable dicts, e.g. the question and
    the Answer's `model_dump(mode="json")`), readable by its owner only."""

    owner: str
    turns: list[dict[str, object]] = Field(default_factory=list)


class AssistantLike(Protocol):
    """What every face needs from an assistant: the in-process `rag.Assistant` or the
    `RemoteAssistant` over the HTTP API (rag/service/client.py). Faces type their assistant with
    this, never with the concrete class, so either serves them."""

    def ask(
        self, question: str, history: Sequence[tuple[str, str]] | None = None, k: int | None = None
    ) -> Answer: ...
    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Passage]: ...
    def stream(
        self, question: str, history: Sequence[tuple[str, str]] | None = None, k: int | None = None
    ) -> Iterator[StreamEvent]: ...
    def index(self, paths: Any = None, *, confined: bool = False) -> IndexReport: ...
    def status(self) -> IndexStatus: ...
    @property
    def llm_name(self) -> str: ...
