"""Uploaded documents (the admin token): `POST /v1/documents` (multipart, field `files`),
`GET /v1/documents`, `DELETE /v1/documents/{doc_id}` (rag/ingest/library.py)."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from fastapi import APIRouter, Depends, File, UploadFile

from rag.api.deps import Scope, get_scope
from rag.api.schemas import DocumentList
from rag.core.network import upload_limit
from rag.core.settings import SecuritySettings
from rag.ingest.library import DocumentInfo, UploadResult


def add_documents(
    files: list[UploadFile] = File(...),
    collection: str | None = None,
    scope: Scope = Depends(get_scope),
) -> UploadResult:
    """Upload one or more documents (.pdf .md .txt .html): stored under the uploads folder
    and indexed. A file of the wrong type or size refuses the request (400, 413) and nothing
    is stored; a file that cannot be read is reported `failed` with the reason. Needs the
    admin token."""
    with TemporaryDirectory(prefix="rag-upload-") as tmp:
        uploads = []
        for i, f in enumerate(files):
            path = Path(tmp) / f"{i}.upload"
            with path.open("wb") as out:
                while block := f.file.read(1 << 20):
                    out.write(block)
            uploads.append((f.filename or f"upload-{i}", path))
        return scope.library(collection).add(uploads)


def list_documents(
    collection: str | None = None, scope: Scope = Depends(get_scope)
) -> DocumentList:
    """The uploaded documents and what the index holds of each. Needs the admin token."""
    return DocumentList(documents=scope.library(collection).list())


def delete_documents(
    doc_id: str, collection: str | None = None, scope: Scope = Depends(get_scope)
) -> DocumentInfo:
    """Remove an uploaded document from the index and the uploads folder."""
    return scope.library(collection).delete(doc_id)


def router(security: SecuritySettings) -> APIRouter:
    """The documents routes; an upload's size and file count are bounded by `security`."""
    r = APIRouter(prefix="/v1")
    r.add_api_route(
        "/documents",
        add_documents,
        methods=["POST"],
        response_model=UploadResult,
        tags=["documents"],
        max_body_size=upload_limit(security),
        # Starlette's parser would stop at 1,000 files, below security.max_request_files.
        form_limits={"max_files": security.max_request_files},
    )
    r.add_api_route(
        "/documents",
        list_documents,
        methods=["GET"],
        response_model=DocumentList,
        tags=["documents"],
    )
    r.add_api_route(
        "/documents/{doc_id}",
        delete_documents,
        methods=["DELETE"],
        response_model=DocumentInfo,
        tags=["documents"],
    )
    return r
