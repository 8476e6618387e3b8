"""`POST /v1/retrieve`: the passages for a query, without an answer; `GET /v1/sources/{doc_id}`:
the file a passage or a citation comes from; `GET /v1/sources/{doc_id}/view?hl=<sentence>`: its
source view (rag/service/source_view.py: the stored text, the sentence marked), what a
`url_citation` annotation opens. The two source routes take a bearer token, or, for a browser
that cannot send one, a signed link (`c`, `exp`, `sig`; rag/service/links.py) for exactly that
document, sentence and collection."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.exceptions import HTTPException

from rag.api.auth import caller, user_bearer
from rag.api.deps import Scope, get_access, get_links, get_quotas, get_scope, get_settings
from rag.api.schemas import RetrieveRequest, RetrieveResponse, SourcePassage
from rag.core.errors import NotFoundError, RagError
from rag.core.settings import Settings
from rag.service.access import Access, Principal, owner_key
from rag.service.documents import DocumentText
from rag.service.export import API_SOURCE_ROUTE, view_url
from rag.service.links import FILE, VIEW, LinkError, LinkSigner
from rag.service.quotas import Quotas
from rag.service.source_view import (
    VIEW_HEADERS,
    find_document,
    original_file_response,
    source_view_html,
)

router = APIRouter(prefix="/v1")
# The source routes: no router-wide `caller`, they take a token or a signed link (`reader`).
sources = APIRouter(prefix="/v1")


@router.post("/retrieve", response_model=RetrieveResponse, tags=["retrieval"])
def retrieve(
    req: RetrieveRequest,
    request: Request,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    links: LinkSigner | None = Depends(get_links),
) -> RetrieveResponse:
    """The k best passages for `query` (or `question`), numbered 1..k in rank order, with the
    scores their ranking used: `score` (the fused one in hybrid mode), `bm25_score` (for a
    passage BM25 ranked among its candidates) and `vector_score` (cosine similarity), and the
    `url` of each one's source view (at the passage's start)."""
    name = scope.collection(who, req.collection)
    passages = scope.pool.get(name).retrieve(req.text, k=req.k, mode=req.mode)
    url = view_url(str(request.base_url), signer=links, collection=name)
    out = []
    for number, p in enumerate(passages, 1):
        p.number = number
        out.append(SourcePassage(**p.model_dump(), url=url(p)))
    return RetrieveResponse(passages=out)


def source_file(scope: Scope, who: Principal, doc_id: str) -> Path:
    """The file of an indexed document of one of the caller's collections, confined to the
    indexing roots (`Library.open`); the same NotFoundError for any other, whoever's it is."""
    for name in sorted(scope.allowed(who)):
        try:
            return Path(scope.pool.library(name).open(doc_id))
        except (RagError, AttributeError):  # not in this collection; a remote pool has no files
            continue
    raise NotFoundError(f"No indexed document {doc_id[:200]!r}.")


class Reader:
    """Who opens a source: a bearer token's principal (its quota counted, as for every API call),
    or a signed link's (`signed`: its collection and expiry), granted only the collection the link
    was signed for, so the grants still decide what it reaches."""

    def __init__(
        self,
        creds: HTTPAuthorizationCredentials | None = Depends(user_bearer),
        access: Access = Depends(get_access),
        quotas: Quotas = Depends(get_quotas),
        links: LinkSigner | None = Depends(get_links),
        settings: Settings = Depends(get_settings),
        c: str = Query("", description="Signed link: the collection it was signed for."),
        exp: str = Query("", description="Signed link: when it expires (Unix time)."),
        sig: str = Query("", description="Signed link: its signature (rag/service/links.py)."),
    ) -> None:
        self.creds, self.access = creds, access
        self.quotas, self.links, self.settings = quotas, links, settings
        self.link = (c, exp, sig)
        self.signed: tuple[str, int] | None = None

    def principal(self, kind: str, doc_id: str, hl: str = "") -> Principal:
        """401 with neither a token nor a signed link; 403 for a link that does not sign exactly
        this `kind`, `doc_id` and `hl`, or that has expired."""
        found = self.access.by_token(self.creds.credentials if self.creds else "")
        if found is not None:
            self.quotas.check(found.owner, "api")
            return found
        collection, until, sig = self.link
        if not sig or self.links is None:
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        try:
            exp = self.links.check(kind, collection, doc_id, hl, until, sig)
        except LinkError as e:
            raise HTTPException(403, str(e)) from None
        self.signed = (collection, exp)
        name = collection or self.settings.default_name
        return Principal(owner_key("api", "link"), frozenset({name}))


@sources.get(
    "/sources/{doc_id}",
    tags=["retrieval"],
    response_class=FileResponse,
    responses={200: {"description": "The document's file (PDF, Markdown, text or HTML)."}},
)
async def source(
    doc_id: str, reader: Reader = Depends(), scope: Scope = Depends(get_scope)
) -> FileResponse:
    """The file a cited document comes from, for any token that may use one of its
    collections, or a link signed for it (404 otherwise). HTML is served sandboxed; nothing is
    sniffed."""
    who = reader.principal(FILE, doc_id)
    path = await run_in_threadpool(source_file, scope, who, doc_id)
    return original_file_response(path)


def source_document(scope: Scope, who: Principal, doc_id: str) -> DocumentText:
    """An indexed document's stored text from one of the caller's collections; the same
    NotFoundError for any other (and over `api_url`, where no store is at hand)."""
    names = sorted(scope.allowed(who))
    return find_document((getattr(scope.pool.get(n), "store", None) for n in names), doc_id)


@sources.get(
    "/sources/{doc_id}/view",
    tags=["retrieval"],
    response_class=HTMLResponse,
    responses={200: {"description": "The source view: the document's text, `hl` marked."}},
)
async def source_view(
    doc_id: str,
    request: Request,
    hl: str = "",
    reader: Reader = Depends(),
    scope: Scope = Depends(get_scope),
) -> HTMLResponse:
    """The cited document as a reader opens it (same token and grants as `/v1/sources`, or a
    link signed for this document and `hl`): its title, readable source, page or section, its
    text as stored with the sentence `hl` in `<mark id="cited">` (the link's `#cited` scrolls to
    it), and a link to the original file (signed alike, until the same time, when this was)."""
    who = reader.principal(VIEW, doc_id, hl)
    doc = await run_in_threadpool(source_document, scope, who, doc_id)
    try:
        await run_in_threadpool(source_file, scope, who, doc_id)
        where = f"#page={doc.page}" if doc.page else ""
        base = str(request.base_url).rstrip("/")
        signed = ""
        if reader.signed is not None and reader.links is not None:
            collection, exp = reader.signed
            signed = "?" + reader.links.query(FILE, collection, doc_id, exp=exp)
        file_url = f"{base}{API_SOURCE_ROUTE}{quote(doc_id, safe='')}{signed}{where}"
    except RagError:
        file_url = ""
    return HTMLResponse(source_view_html(doc, hl[:2000], file_url), headers=VIEW_HEADERS)
