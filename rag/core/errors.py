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


class PathNotAllowedError(RagError, PermissionError):
    """A path given to the API or the UI is missing or outside the indexing roots. Both get the
    same message, so a caller cannot probe the disk."""


class RequestTooLargeError(RagError, ValueError):
    """An index request names more files or bytes than the configured caps."""


class NotAuthorisedError(RagError, PermissionError):
    """The action needs the admin token (indexing from afar), which was missing or wrong, or
    which is not configured at all (then the action is off)."""


class IndexBusyError(RagError):
    """Another process is writing to the same index and did not finish in time."""


class DamagedIndexError(StoreError):
    """The store's files are damaged or unexpectedly empty; it is reported, never silently
    replaced. `rag index --rebuild` rebuilds it explicitly."""


class StateError(RagError):
    """The state store (feedback, Slack events, conversations) cannot be used."""


class UnsupportedFileError(RagError, ValueError):
    """An uploaded file is not of a type the collection reads (.pdf .md .txt .html)."""


class NotFoundError(RagError, LookupError):
    """A document or conversation that does not exist (or is not the caller's: the same
    message, so nothing leaks)."""


class CollectionNotFoundError(NotFoundError):
    """A collection that does not exist or that the caller may not use: the same message for
    both, so a caller never learns that a forbidden collection exists (rag/service/access.py)."""


class QuotaExceededError(RagError):
    """The caller is over one of its quotas (`[quotas]`, rag/service/quotas.py); it may try
    again after `retry_after_s` seconds. `reason`: "requests_per_minute" or "llm_tokens_per_day"."""

    def __init__(self, message: str, reason: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after_s = retry_after_s
