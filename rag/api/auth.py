"""Bearer tokens as FastAPI dependencies: `caller` (chat, retrieval, status, conversations),
`require_admin` (indexing and documents) and `within_quota` (chat, retrieval). Who may use what
is decided in rag/service/access.py, how much in rag/service/quotas.py."""

from __future__ import annotations

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from rag.api.deps import get_access, get_quotas, get_settings
from rag.core.settings import Settings
from rag.service.access import Access, Principal, check_admin
from rag.service.quotas import Quotas

user_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <RAG_API__TOKEN>`")
admin_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <admin token>`")


def caller(
    creds: HTTPAuthorizationCredentials | None = Depends(user_bearer),
    access: Access = Depends(get_access),
) -> Principal:
    """The caller's principal, from the user token, a named token of `access.tokens` or the admin
    token; 401 when tokens are required and the request has none of them. Its owner names whose
    conversations it sees ("api:admin", "api:api" for the user token or when no token is set,
    "api:token:<name>")."""
    found = access.by_token(creds.credentials if creds else "")
    if found is None:
        raise HTTPException(
            401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    return found


def within_quota(who: Principal = Depends(caller), quotas: Quotas = Depends(get_quotas)) -> None:
    """Chat, retrieval and sources: one request of the caller's quota (rag/service/quotas.py);
    over it, 429 with `Retry-After` (rag/api/errors.py)."""
    quotas.check(who.owner, "api")


def require_admin(
    creds: HTTPAuthorizationCredentials | None = Depends(admin_bearer),
    settings: Settings = Depends(get_settings),
) -> None:
    """Indexing: the admin token only; with none configured, indexing from afar is off."""
    admin = settings.security.admin_token
    check_admin(creds.credentials if creds else "", admin.get_secret_value() if admin else "")
