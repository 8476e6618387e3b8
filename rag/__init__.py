"""A question-answering assistant over a document collection, with verified citations."""

from rag import _offline  # noqa: F401  (sets offline switches before any model library loads)
from rag.errors import (
    EmptyQuestionError,
    LLMUnavailableError,
    RagError,
    StoreError,
)
from rag.settings import Settings
from rag.types import (
    Answer,
    AnswerEvent,
    Citation,
    IndexReport,
    IndexStatus,
    Passage,
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
    "Passage",
    "RagError",
    "Settings",
    "StoreError",
    "StreamEvent",
    "TokenEvent",
]


def __getattr__(name: str) -> object:
    # Lazy: importing `rag` for its types must not load torch, chromadb or the LLM.
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    raise AttributeError(name)
