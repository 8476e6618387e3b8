"""`POST /v1/retrieve`: the passages for a query, without an answer; `GET /v1/sources/{doc_id}`:
the file a passage or a citation comes from; `GET /v1/sources/{doc_id}/view?hl=<sentence>`: its
source view (rag/service/source_view.py: the stored text, the sentence marked), what a
`url_citation` annotation opens."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from rag.api.auth import caller
from rag.api.deps import Scope, get_scope
from rag.api.schemas import RetrieveRequest, RetrieveResponse
from rag.core.errors import NotFoundError, RagError
from rag.service.access import Principal
from rag.service.documents import DocumentText
from rag.service.export import API_SOURCE_ROUTE
from rag.service.source_view import (
    VIEW_HEADERS,
    find_document,
    original_file_response,
    source_view_html,
)

router = APIRouter(prefix="/v1")


@router.post("/retrieve", response_model=RetrieveResponse, tags=["retrieval"])
def retrieve(
    req: RetrieveRequest, who: Principal = Depends(caller), scope: Scope = Depends(get_scope)
) -> RetrieveResponse:
    """The k best passages for `query` (or `question`), numbered 1..k in rank order, with the
    scores their ranking used: `score` (the fused one in hybrid mode), `bm25_score` (for a
    passage BM25 ranked among its candidates) and `vector_score` (cosine similarity)."""
    a = scope.assistant(who, req.collection)
    passages = a.retrieve(req.text, k=req.k, mode=req.mode)
    for number, p in enumerate(passages, 1):
        p.number = number
    return RetrieveResponse(passages=passages)


def source_file(scope: Scope, who: Principal, doc_id: str) -> Path:
    """The file of an indexed document of one of the caller's collections, confined to the
    indexing roots (`Library.open`); the same NotFoundError for any other, whoever's it is."""
    for name in sorted(scope.allowed(who)):
        try:
            return Path(scope.pool.library(name).open(doc_id))
        except (RagError, AttributeError):  # not in this collection; a remote pool has no files
            continue
    raise NotFoundError(f"No indexed document {doc_id[:200]!r}.")


@router.get(
    "/sources/{doc_id}",
    tags=["retrieval"],
    response_class=FileResponse,
    responses={200: {"description": "The document's file (PDF, Markdown, text or HTML)."}},
)
async def source(
    doc_id: str, who: Principal = Depends(caller), scope: Scope = Depends(get_scope)
) -> FileResponse:
    """The file a cited document comes from, for any token that may use one of its
    collections (404 otherwise). HTML is served sandboxed; nothing is sniffed."""
    path = await run_in_threadpool(source_file, scope, who, doc_id)
    return original_file_response(path)


def source_document(scope: Scope, who: Principal, doc_id: str) -> DocumentText:
    """An indexed document's stored text from one of the caller's collections; the same
    NotFoundError for any other (and over `api_url`, where no store is at hand)."""
    names = sorted(scope.allowed(who))
    return find_document((getattr(scope.pool.get(n), "store", None) for n in names), doc_id)


@router.get(
    "/sources/{doc_id}/view",
    tags=["retrieval"],
    response_class=HTMLResponse,
    responses={200: {"description": "The source view: the document's text, `hl` marked."}},
)
async def source_view(
    doc_id: str,
    request: Request,
    hl: str = "",
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
) -> HTMLResponse:
    """The cited document as a reader opens it (same token and grants as `/v1/sources`): its
    title, readable source, page or section, its text as stored with the sentence `hl` in
    `<mark id="cited">` (the link's `#cited` scrolls to it), and a link to the original file."""
    doc = await run_in_threadpool(source_document, scope, who, doc_id)
    try:
        await run_in_threadpool(source_file, scope, who, doc_id)
        where = f"#page={doc.page}" if doc.page else ""
        base = str(request.base_url).rstrip("/")
        file_url = f"{base}{API_SOURCE_ROUTE}{quote(doc_id, safe='')}{where}"
    except RagError:
        file_url = ""
    return HTMLResponse(source_view_html(doc, hl[:2000], file_url), headers=VIEW_HEADERS)
