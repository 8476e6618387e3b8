"""`POST /v1/retrieve`: the passages for a question, without an answer."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.api.auth import caller
from rag.api.deps import Scope, get_scope
from rag.api.schemas import RetrieveRequest, RetrieveResponse
from rag.service.access import Principal

router = APIRouter(prefix="/v1")


@router.post("/retrieve", response_model=RetrieveResponse, tags=["retrieval"])
def retrieve(
    req: RetrieveRequest, who: Principal = Depends(caller), scope: Scope = Depends(get_scope)
) -> RetrieveResponse:
    """The k best passages for a question, with their scores."""
    a = scope.assistant(who, req.collection)
    return RetrieveResponse(passages=a.retrieve(req.question, k=req.k, mode=req.mode))
