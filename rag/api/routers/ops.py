"""Operations: `GET /health` (`public`, no token) and `GET /v1/models` (the collections a caller
may ask). `/metrics` is added by `create_app` (rag/core/metrics.py, rag/service/observe.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.api.auth import caller
from rag.api.deps import Pool, Scope, get_pool, get_scope
from rag.api.schemas import Health, ModelCard, ModelList
from rag.service.access import Principal

public = APIRouter()
router = APIRouter(prefix="/v1")


@public.get("/health", response_model=Health, tags=["ops"])
def health(pool: Pool = Depends(get_pool)) -> Health:
    """Liveness and the size of the index (no token needed; reveals no content)."""
    s = pool.get(None).status()  # the default collection's
    return Health(documents=s.documents, chunks=s.chunks)


@router.get("/models", response_model=ModelList, tags=["chat"])
def models(who: Principal = Depends(caller), scope: Scope = Depends(get_scope)) -> ModelList:
    """The collections the caller's token may use, the default first: each is a `model`
    for chat completions. `llm` names the LLM behind them."""
    allowed = scope.allowed(who)
    infos = [i for i in scope.pool.info() if i.name in allowed]
    llm = scope.pool.get(infos[0].name).llm_name if infos else ""
    cards = [ModelCard(id=i.name, llm=llm, description=i.description) for i in infos]
    return ModelList(data=cards)
