"""The API's request and response bodies (they also make the OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rag.core.types import (
    Answer,
    Citation,
    ConversationSummary,
    Passage,
)
from rag.ingest.library import DocumentInfo

MODEL_ID = "rag"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body; sampling parameters are accepted and ignored (settings decide)."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve.")
    stream_draft: bool = Field(
        False,
        description="Deprecated and ignored: the stream never carries an unchecked draft.",
    )
    conversation_id: str | None = Field(
        None,
        max_length=100,
        description='Extension: save the question and its answer in this conversation ("new" '
        "starts one; the response names it). Without earlier messages, the conversation's "
        "saved turns are the history.",
    )


VIEW_URL_HELP = (
    "Opens the document in the source view (`GET /v1/sources/{doc_id}/view?hl=…#cited`: its "
    "text with the cited sentence marked and scrolled into view; the same URL as the "
    "`url_citation` annotation of its [n]), signed (`c`, `exp`, `sig`) when tokens are on, so "
    "that a browser opens it; a citation without a document id gives its source."
)


class SourceCitation(Citation):
    """A checked citation as the API gives it: with the URL of its source view."""

    url: str = Field("", description=VIEW_URL_HELP)


class SourcePassage(Passage):
    """A retrieved passage as the API gives it: with the URL of its source view (at the
    passage's start)."""

    url: str = Field("", description=VIEW_URL_HELP.replace("cited sentence", "passage"))


class URLCitation(BaseModel):
    """OpenAI's `url_citation`: where a citation marker lies in the content and what it opens."""

    start_index: int = Field(description="The marker's first character in `content`.")
    end_index: int = Field(
        description="Just past the marker's last character: `content[start_index:end_index]` "
        'is the marker, e.g. "[1]" (indices count characters, i.e. Unicode code points).'
    )
    title: str = Field(description="The cited document's title.")
    url: str = Field(
        description="Opens the cited document (`GET /v1/sources/{doc_id}`, the same bearer "
        "token), at its page (`#page=N`) for a PDF."
    )


class Annotation(BaseModel):
    """OpenAI's message annotation: one per [n] marker of the answer."""

    type: Literal["url_citation"] = "url_citation"
    url_citation: URLCitation


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    annotations: list[Annotation] = Field(
        default_factory=list,
        description="A `url_citation` for each [n] in `content` (OpenAI's format); the "
        "extension field `citations` carries the same citations with their snippets.",
    )


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """OpenAI's `chat.completion`, plus the extension fields `citations`, `abstained`, `answer`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[SourceCitation] = Field(
        description="Extension: the checked citations, each with the `url` of its source view."
    )
    abstained: bool = Field(description="Extension: true when the collection lacks the answer.")
    answer: Answer = Field(description="Extension: the full checked answer.")
    conversation_id: str | None = Field(
        None, description="Extension: the conversation the turn was saved in, if any."
    )


class RetrieveRequest(BaseModel):
    query: str | None = Field(None, description="The query (or `question`; one is required).")
    question: str | None = Field(None, description="The same as `query`.")
    collection: str | None = Field(None, description="The collection; default: the default.")
    k: int = Field(5, ge=1, le=100)
    mode: Literal["hybrid", "vector", "bm25"] | None = None

    @model_validator(mode="after")
    def _one_query(self) -> RetrieveRequest:
        if self.query is None and self.question is None:
            raise ValueError("send the text to search for as `query` (or `question`)")
        return self

    @property
    def text(self) -> str:
        """What to search for: `query`, else `question`."""
        return self.query if self.query is not None else (self.question or "")


class RetrieveResponse(BaseModel):
    passages: list[SourcePassage]


class IndexRequest(BaseModel):
    paths: list[str] | None = Field(
        None,
        max_length=1000,
        description="Files or folders under the server's indexing roots, absolute or relative "
        "to a root; default: the configured corpus.",
    )
    collection: str | None = Field(None, description="The collection; default: the default.")


class RenameRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class Deleted(BaseModel):
    deleted: str


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "rag-assistant"
    llm: str = Field(description="Extension: the LLM behind the assistant.")
    description: str = Field("", description="Extension: the collection's description.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    documents: int
    chunks: int
