"""The index: `GET /v1/status` (any caller) and `POST /v1/index` (`admin`, the admin token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.api.auth import caller
from rag.api.deps import ROOT, Scope, get_scope
from rag.api.schemas import IndexRequest
from rag.core.types import IndexReport, IndexStatus
from rag.service.access import Principal

router = APIRouter(prefix="/v1")
admin = APIRouter(prefix="/v1")


@admin.post("/index", response_model=IndexReport, tags=["index"])
def index(req: IndexRequest | None = None, scope: Scope = Depends(get_scope)) -> IndexReport:
    """Index files or folders under the server's indexing roots (incremental); blocks until
    done. Needs the admin token; paths outside the roots, missing or hidden ones all get the
    same 403."""
    a = scope.pool.get(scope.collection(ROOT, req.collection if req else None))
    return a.index(req.paths if req else None, confined=True)  # type: ignore[no-any-return]


@router.get("/status", response_model=IndexStatus, tags=["index"])
def status(
    collection: str | None = None,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
) -> IndexStatus:
    return scope.assistant(who, collection).status()  # type: ignore[no-any-return]
