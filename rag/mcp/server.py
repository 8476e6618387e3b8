"""The MCP server: the assistant's tools and documents for any MCP client (Claude Desktop, IDEs,
agents), built with the official SDK (`mcp.server.mcpserver.MCPServer`).

Tools:

- `search(query, collection?, k?)`: the passages retrieval finds (what `POST /v1/retrieve`
  returns), each with its readable source, page or section, score and the URI of its document.
- `ask(question, collection?, k?)`: the checked answer with its citations (what
  `POST /v1/chat/completions` answers): every [n] in `answer` is one of `citations`.
- `list_collections()`: the collections the caller may use.

Resources (templates): `rag://{collection}/documents`, the documents of a collection (JSON), and
`rag://{collection}/documents/{doc_id}`, one document's text (rag/service/documents.py).

This is a face: it translates MCP onto the service layer and decides nothing itself. Which
collection a caller may use is rag/service/access.py's decision, the collection's assistant
comes from the pool (rag/service/collections.py), and a missing and a forbidden collection get
the same error. Who the caller is comes from `principal_of(headers)`: over HTTP the bearer token
of each request (rag/mcp/http.py), over stdio the one principal `rag mcp` runs as.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel, Field

from rag.core.errors import RagError
from rag.core.text import clean_display
from rag.core.types import Answer, Citation, Passage
from rag.ingest.sources import location, source_name
from rag.service.access import Access, Principal
from rag.service.collections import Collections, RemoteCollections
from rag.service.documents import DocumentEntry, DocumentText, list_documents, read_document
from rag.service.quotas import Quotas

Pool = Collections | RemoteCollections
T = TypeVar("T")
# Who is calling, from the HTTP request's headers (None over stdio).
PrincipalOf = Callable[[Mapping[str, str] | None], Principal]

INSTRUCTIONS = (
    "Answers about a document collection with checked citations. `ask` gives an answer whose "
    "every [n] is one of its citations; quote it with them. `search` gives the passages "
    "themselves. `list_collections` names the collections you may use; pass one as "
    "`collection` (default: the default collection). Read a whole document at a passage's `url`."
)


def document_uri(collection: str, doc_id: str) -> str:
    """The resource URI of one document of a collection."""
    return f"rag://{quote(collection, safe='')}/documents/{quote(doc_id, safe='')}"


class SearchHit(BaseModel):
    rank: int
    title: str
    source: str = Field(description="The readable source name (a listing's name and date, a file).")
    page: int | None = None
    section: str = ""
    where: str = Field("", description='"p. 4" or "§ Results"; empty for a whole abstract.')
    score: float = Field(description="The fused retrieval score (ranks; not a probability).")
    url: str = Field(description="The document's resource URI (resources/read).")
    doc_id: str
    text: str


class SearchResult(BaseModel):
    collection: str
    query: str
    passages: list[SearchHit]


class CitedSource(BaseModel):
    number: int = Field(description="The [n] that cites it in the answer.")
    title: str
    source: str
    page: int | None = None
    section: str = ""
    where: str = ""
    snippet: str = Field(description="The passage's sentence that supports the claim.")
    score: float
    url: str
    doc_id: str = ""


class AskResult(BaseModel):
    collection: str
    question: str
    answer: str = Field(description="The checked answer; every [n] is one of `citations`.")
    citations: list[CitedSource]
    abstained: bool = Field(description="True when the collection does not state the answer.")
    not_stated: str = ""


class CollectionEntry(BaseModel):
    name: str
    description: str = ""
    chunks: int = 0
    default: bool = False


class DocumentList(BaseModel):
    collection: str
    documents: list[dict[str, Any]]


def _hit(collection: str, rank: int, p: Passage) -> SearchHit:
    return SearchHit(
        rank=rank,
        title=clean_display(p.title),
        source=source_name(p),
        page=p.page,
        section=clean_display(p.section),
        where=location(p.page, p.section),
        score=round(p.score, 4),
        url=document_uri(collection, p.doc_id),
        doc_id=p.doc_id,
        text=clean_display(p.text),
    )


def _cited(collection: str, c: Citation) -> CitedSource:
    return CitedSource(
        number=c.number,
        title=clean_display(c.title),
        source=source_name(c),
        page=c.page,
        section=clean_display(c.section),
        where=location(c.page, c.section),
        snippet=clean_display(c.snippet),
        score=round(c.score, 4),
        url=document_uri(collection, c.doc_id) if c.doc_id else "",
        doc_id=c.doc_id,
    )


def answer_result(collection: str, answer: Answer) -> AskResult:
    """An answer as the `ask` tool returns it (its text as the checks left it: "[n]" are the
    assistant's citations)."""
    return AskResult(
        collection=collection,
        question=answer.question,
        answer=answer.text,
        citations=[_cited(collection, c) for c in answer.citations],
        abstained=answer.abstained,
        not_stated=answer.not_stated,
    )


class Face:
    """What the tools do, for one caller at a time: the pool, reached through the grants."""

    def __init__(
        self, pool: Pool, access: Access, principal_of: PrincipalOf, quotas: Quotas | None = None
    ) -> None:
        self.pool = pool
        self.access = access
        self.principal_of = principal_of
        self.quotas = quotas

    def _admit(self, ctx: Context | None) -> str:
        """The caller's owner key, one request of its quota spent (QuotaExceededError over it)."""
        owner = self.principal_of(ctx.headers if ctx is not None else None).owner
        if self.quotas is not None:
            self.quotas.check(owner, "mcp")
        return owner

    def _collection(self, ctx: Context | None, requested: str | None) -> str:
        """The collection the caller may use (the same error for a missing and a forbidden
        one, as every face words it)."""
        who = self.principal_of(ctx.headers if ctx is not None else None)
        return self.access.resolve(who, requested or None, self.pool)

    def search(
        self, ctx: Context | None, query: str, collection: str | None, k: int
    ) -> SearchResult:
        name = self._collection(ctx, collection)
        self._admit(ctx)
        passages = self.pool.get(name).retrieve(query, k=k)
        hits = [_hit(name, i, p) for i, p in enumerate(passages, 1)]
        return SearchResult(collection=name, query=query, passages=hits)

    def ask(
        self, ctx: Context | None, question: str, collection: str | None, k: int | None
    ) -> AskResult:
        name = self._collection(ctx, collection)
        owner = self._admit(ctx)
        answer = self.pool.get(name).ask(question, k=k)
        if self.quotas is not None:
            self.quotas.record(owner, answer)
        return answer_result(name, answer)

    def collections(self, ctx: Context | None) -> list[CollectionEntry]:
        who = self.principal_of(ctx.headers if ctx is not None else None)
        infos = self.pool.info()
        allowed = set(self.access.allowed(who, [i.name for i in infos]))
        return [CollectionEntry(**i.model_dump()) for i in infos if i.name in allowed]

    def _store(self, ctx: Context | None, collection: str) -> Any:
        name = self._collection(ctx, collection)
        store = getattr(self.pool.get(name), "store", None)
        if store is None:
            raise RagError("Documents are read from the store: not available over `api_url`.")
        return store

    def documents(self, ctx: Context | None, collection: str) -> list[DocumentEntry]:
        return list_documents(self._store(ctx, collection))

    def document(self, ctx: Context | None, collection: str, doc_id: str) -> DocumentText:
        return read_document(self._store(ctx, collection), doc_id)


def _tool_errors(call: Callable[[], T]) -> T:
    """A refusal or failure the service names (a collection not granted, an empty question, the
    store down) reaches the client as its message, not as the SDK's generic "Error executing"."""
    try:
        return call()
    except RagError as e:
        raise ToolError(str(e)) from e


def _resource_errors(call: Callable[[], T]) -> T:
    try:
        return call()
    except RagError as e:
        raise ResourceError(str(e)) from e


def build_server(
    pool: Pool, access: Access, principal_of: PrincipalOf, quotas: Quotas | None = None
) -> MCPServer:
    """The MCP server over `pool`, the caller's grants (and `quotas`, on search and ask) checked
    on every call."""
    face = Face(pool, access, principal_of, quotas)
    server: MCPServer = MCPServer(
        "rag-assistant", instructions=INSTRUCTIONS, version="1", log_level="WARNING"
    )

    @server.tool(title="Search the documents")
    def search(query: str, ctx: Context, collection: str | None = None, k: int = 5) -> SearchResult:
        """The passages of the collection that best match `query` (hybrid vector + BM25), each
        with its readable source, page or section, score and document URI."""
        k = max(1, min(k, 50))
        return _tool_errors(lambda: face.search(ctx, query, collection, k))

    @server.tool(title="Ask the documents")
    def ask(
        question: str, ctx: Context, collection: str | None = None, k: int | None = None
    ) -> AskResult:
        """A checked answer to `question` from the collection: every [n] in `answer` cites one
        of `citations` (its source, page or section, and the supporting sentence); when the
        collection does not state it, `abstained` is true and the answer says so."""
        if k is not None:
            k = max(1, min(k, 50))
        return _tool_errors(lambda: face.ask(ctx, question, collection, k))

    @server.tool(title="List the collections")
    def list_collections(ctx: Context) -> list[CollectionEntry]:
        """The collections you may search and ask, with their sizes; the default is marked."""
        return _tool_errors(lambda: face.collections(ctx))

    @server.resource(
        "rag://{collection}/documents",
        name="documents",
        title="Documents of a collection",
        mime_type="application/json",
    )
    def documents(collection: str, ctx: Context) -> str:
        """Every document of a collection: id, title, source, page or section, chunks, URI."""

        def listing() -> str:
            docs = [
                {**d.model_dump(), "url": document_uri(collection, d.doc_id)}
                for d in face.documents(ctx, collection)
            ]
            return DocumentList(collection=collection, documents=docs).model_dump_json()

        return _resource_errors(listing)

    @server.resource(
        "rag://{collection}/documents/{doc_id}",
        name="document",
        title="A document's text",
        mime_type="text/plain",
    )
    def document(collection: str, doc_id: str, ctx: Context) -> str:
        """One document's text (a sentence that tries to instruct the assistant is removed)."""

        def read() -> str:
            d = face.document(ctx, collection, doc_id)
            head = " · ".join(x for x in (d.label, location(d.page, d.section)) if x)
            return f"{clean_display(d.title)}\n{head}\n\n{clean_display_keep_lines(d.text)}"

        return _resource_errors(read)

    return server


def clean_display_keep_lines(text: str) -> str:
    """`clean_display` per paragraph (it joins whitespace, and a document keeps its breaks)."""
    return "\n\n".join(clean_display(p) for p in text.split("\n\n"))
