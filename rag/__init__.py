"""A question-answering assistant over a document collection, with verified citations."""

from rag import _offline  # noqa: F401  (sets offline switches before any model library loads)
from rag.core.errors import (
    EmptyQuestionError,
    LLMUnavailableError,
    ModelStoppedError,
    QuestionTooLongError,
    RagError,
    StoreError,
)
from rag.core.settings import Settings
from rag.core.types import (
    Answer,
    AnswerEvent,
    Citation,
    IndexReport,
    IndexStatus,
    Passage,
    SourcesEvent,
    StatusEvent,
    StreamEvent,
    TokenEvent,
)

__all__ = [
    "Answer",
    "AnswerEvent",
    "Assistant",
    "Citation",
    "EmptyQuestionError",
    "IndexReport",
    "IndexStatus",
    "LLMUnavailableError",
    "ModelStoppedError",
    "Passage",
    "QuestionTooLongError",
    "RagError",
    "Settings",
    "SourcesEvent",
    "StatusEvent",
    "StoreError",
    "StreamEvent",
    "TokenEvent",
]


def __getattr__(name: str) -> object:
    # Lazy: importing `rag` for its types must not load torch, chromadb or the LLM.
    if name == "Assistant":
        from rag.service.assistant import Assistant

        return Assistant
    raise AttributeError(name)
