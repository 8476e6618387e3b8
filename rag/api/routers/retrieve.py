"""`POST /v1/retrieve`: the passages for a query, without an answer; `GET /v1/sources/{doc_id}`:
the file a passage or a citation comes from (what a `url_citation` annotation opens)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from rag.api.auth import caller
from rag.api.deps import Scope, get_scope
from rag.api.schemas import RetrieveRequest, RetrieveResponse
from rag.core.errors import NotFoundError, RagError
from rag.ingest.library import is_html, media_type
from rag.service.access import Principal

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
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if is_html(path):
        headers["Content-Security-Policy"] = "sandbox"
    return FileResponse(
        path,
        media_type=media_type(path),
        headers=headers,
        filename=path.name,
        content_disposition_type="inline",
    )
