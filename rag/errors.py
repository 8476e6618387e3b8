"""Expected failures, each with a message fit to show a user (no stack trace needed)."""


class RagError(Exception):
    """Base of every error the faces catch and show as a message."""


class EmptyQuestionError(RagError, ValueError):
    """The question was empty or only whitespace."""


class LLMUnavailableError(RagError):
    """The LLM could not be reached or refused the request (down, wrong key, timeout)."""


class StoreError(RagError):
    """The vector store cannot be used (server down, wrong settings)."""


class EmbeddingMismatchError(StoreError):
    """The collection was built with another embedding model; mixing vectors is refused."""


class PathNotFoundError(RagError, FileNotFoundError):
    """A path given to index does not exist."""


class ModelStoppedError(LLMUnavailableError):
    """The local model's process died or hung during the request; it is being restarted."""


class QuestionTooLongError(RagError, ValueError):
    """The question is longer than `max_question_chars`."""
