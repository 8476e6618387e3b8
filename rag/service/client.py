"""An `Assistant` look-alike that calls the HTTP API (`rag serve`), so one index serves every face.

`make_assistant(settings)` (rag/service/collections.py) gives a face the in-process `Assistant` by
default, or a `RemoteAssistant` when `settings.api_url` is set.

Chat goes through the `openai` client (the API is OpenAI-compatible, and that client already
parses its SSE stream and error bodies); the other endpoints are plain JSON over httpx. The
server's errors come back as the same `rag.core.errors` classes; a 429 (this token's quota on the
server spent) is not retried but raised at once as `QuotaExceededError`, its `retry_after_s` from
`Retry-After`, so a face shows the same "Quota reached: …; try again in N s." line as in process.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from rag.core import errors
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import (
    Answer,
    AnswerEvent,
    IndexReport,
    IndexStatus,
    Passage,
    StreamEvent,
    TokenEvent,
)

History = Sequence[tuple[str, str]]

# Seconds: an answer from a slow LLM can take minutes; indexing a folder longer still.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 600.0


class RemoteAssistant:
    """Same public methods as `rag.Assistant` (retrieve, ask, stream, index, status), over HTTP."""

    def __init__(
        self, settings: Settings, *, collection: str | None = None, **_ignored: Any
    ) -> None:
        """`collection`: the server's collection to use (sent as the OpenAI `model`; None:
        the server's default)."""
        # `**_ignored`: Assistant's build_index/progress mean nothing here; the server decides.
        if not settings.api_url:
            raise RagError("api_url is not set: there is no API to call.")
        self.settings = settings
        self.collection = collection
        self._model = collection or "rag"  # "rag": the API's default collection
        self.base_url = settings.api_url.rstrip("/").removesuffix("/v1")
        token = settings.api_token.get_secret_value() if settings.api_token else ""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)
        self._openai = _NoQuotaRetry(
            base_url=f"{self.base_url}/v1",
            api_key=token or "no-token",
            timeout=timeout,
            max_retries=1,
        )

    def close(self) -> None:
        self._http.close()
        self._openai.close()

    # --- the Assistant API ---

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Passage]:
        body = self._post(
            "/v1/retrieve",
            {"question": question, "k": k, "mode": mode, "collection": self.collection},
        )
        return [Passage.model_validate(p) for p in body["passages"]]

    def ask(self, question: str, history: History | None = None, k: int | None = None) -> Answer:
        try:
            resp = self._openai.chat.completions.create(
                model=self._model, messages=_messages(question, history), extra_body={"k": k}
            )
        except openai.OpenAIError as e:
            _raise_openai(e, self.base_url)
        return Answer.model_validate((resp.model_extra or {})["answer"])

    def stream(
        self, question: str, history: History | None = None, k: int | None = None
    ) -> Iterator[StreamEvent]:
        """Token events (checked text only), then one AnswerEvent with the checked answer."""
        try:
            chunks = self._openai.chat.completions.create(
                model=self._model,
                messages=_messages(question, history),
                stream=True,
                extra_body={"k": k},
            )
            answered = False
            for chunk in chunks:
                extra = chunk.model_extra or {}
                if "answer" in extra:
                    answered = True
                    yield AnswerEvent(answer=Answer.model_validate(extra["answer"]))
                elif chunk.choices and chunk.choices[0].delta.content:
                    yield TokenEvent(text=chunk.choices[0].delta.content)
        except openai.OpenAIError as e:
            _raise_openai(e, self.base_url)
        if not answered:
            raise RagError(f"The API at {self.base_url} ended the stream without an answer.")

    def index(
        self, paths: Sequence[str | Path] | None = None, *, confined: bool = True, **_: Any
    ) -> IndexReport:
        """Index paths *on the server* (default: its corpus). The server always confines them
        to its indexing roots and needs the admin token (`security.admin_token` here)."""
        body = {"paths": [str(p) for p in paths] if paths else None, "collection": self.collection}
        admin = self.settings.security.admin_token
        headers = {"Authorization": f"Bearer {admin.get_secret_value()}"} if admin else {}
        reply = self._call("POST", "/v1/index", json=body, read_timeout=None, headers=headers)
        return IndexReport.model_validate(reply)

    def status(self) -> IndexStatus:
        params = {"collection": self.collection} if self.collection else None
        return IndexStatus.model_validate(self._call("GET", "/v1/status", params=params))

    def collections(self) -> list[str]:
        """The collections the API lets this token use (its `/v1/models`)."""
        return [str(m["id"]) for m in self._get("/v1/models")["data"]]

    @property
    def llm_name(self) -> str:
        return str(self._get("/v1/models")["data"][0]["llm"])

    # --- transport ---

    def _get(self, path: str) -> Any:
        return self._call("GET", path)

    def _post(
        self, path: str, body: dict[str, Any], read_timeout: float | None = READ_TIMEOUT
    ) -> Any:
        return self._call("POST", path, json=body, read_timeout=read_timeout)

    def _call(
        self, method: str, path: str, read_timeout: float | None = READ_TIMEOUT, **kw: Any
    ) -> Any:
        timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT)
        try:
            r = self._http.request(method, path, timeout=timeout, **kw)
        except httpx.TransportError as e:
            raise RagError(f"The assistant API at {self.base_url} cannot be reached: {e}") from e
        if r.is_success:
            return r.json()
        try:
            err = r.json().get("error", {})
        except ValueError:
            err = {}
        _raise_remote(r.status_code, err, self.base_url, r.headers)


class _NoQuotaRetry(openai.OpenAI):
    """The `openai` client, except that a 429 (the caller's quota on the server is spent) is not
    retried: the face tells its user when to try again (`QuotaExceededError`) at once, rather
    than waiting up to a minute for `Retry-After` and spending the next request of the quota.
    `_should_retry` is the SDK's own (private) hook: `max_retries=0` would also drop the retries
    of a 5xx or a dropped connection; tests/faces/test_slack_remote.py fails if it is renamed."""

    def _should_retry(self, response: httpx.Response) -> bool:
        return response.status_code != 429 and super()._should_retry(response)


def _messages(question: str, history: History | None) -> list[ChatCompletionMessageParam]:
    msgs: list[ChatCompletionMessageParam] = []
    for q, a in history or []:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs.append({"role": "user", "content": question})
    return msgs


def _raise_openai(e: openai.OpenAIError, base_url: str) -> NoReturn:
    if isinstance(e, openai.APIConnectionError):
        raise RagError(f"The assistant API at {base_url} cannot be reached: {e}") from None
    if isinstance(e, openai.APIStatusError):
        body = e.body if isinstance(e.body, dict) else {}
        _raise_remote(e.status_code, body, base_url, e.response.headers)
    if isinstance(e, openai.APIError) and isinstance(e.body, dict):
        _raise_remote(int(e.body.get("code") or 500), e.body, base_url)  # error inside a stream
    raise RagError(f"The assistant API at {base_url} failed: {e}") from None


def _raise_remote(
    status: int, err: dict[str, Any], base_url: str, headers: Mapping[str, str] | None = None
) -> NoReturn:
    """Re-raise the server's error as the same `rag.core.errors` class, with the server's
    message; a 429 (a quota of this token spent) as the `QuotaExceededError` the in-process
    faces raise, its `retry_after_s` from the server's `Retry-After`."""
    if status == 429:
        raise _quota_error(err, headers or {})
    message = str(err.get("message") or f"HTTP {status}")
    if status == 401:
        message = f"The API at {base_url} refused the token ({message}); set RAG_API_TOKEN."
    cls = getattr(errors, str(err.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, RagError)):
        cls = RagError
    raise cls(message)


def _quota_error(err: dict[str, Any], headers: Mapping[str, str]) -> errors.QuotaExceededError:
    """The server's quota refusal (rag/api/errors.py: 429, `Retry-After`, the reason in `param`,
    the line of rag/service/quotas.py in `message`) as the error the in-process path raises."""
    from rag.service.quotas import WINDOW_S, quota_line

    try:
        wait = max(1, math.ceil(float(headers.get("retry-after") or "")))
    except ValueError:
        wait = int(WINDOW_S)
    reason = str(err.get("param") or "requests_per_minute")
    message = str(err.get("message") or "")
    if not message.startswith("Quota reached"):
        message = quota_line(wait)
    return errors.QuotaExceededError(message, reason, wait)


class RemoteLibrary:
    """`rag.ingest.library.Library`'s add / list / delete over the API's `/v1/documents` (admin
    token: `security.admin_token` here, as for `RemoteAssistant.index`). Opening a document's file
    is served by the API's host only: here every id is unknown."""

    def __init__(self, remote: RemoteAssistant) -> None:
        self.remote = remote

    def _headers(self) -> dict[str, str]:
        admin = self.remote.settings.security.admin_token
        return {"Authorization": f"Bearer {admin.get_secret_value()}"} if admin else {}

    def _params(self) -> dict[str, str]:
        """The collection the documents belong to (none: the server's default)."""
        return {"collection": self.remote.collection} if self.remote.collection else {}

    def add(self, uploads: Sequence[tuple[str, Path]], on_progress: Any = None) -> Any:
        from rag.ingest.library import UploadResult

        if on_progress is not None:
            on_progress(0, len(uploads), "the files (on the server)")
        handles = [path.open("rb") for _, path in uploads]
        try:
            files = [("files", (name, h)) for (name, _), h in zip(uploads, handles, strict=True)]
            reply = self.remote._call(
                "POST",
                "/v1/documents",
                files=files,
                headers=self._headers(),
                params=self._params(),
                read_timeout=None,
            )
        finally:
            for h in handles:
                h.close()
        if on_progress is not None:
            on_progress(len(uploads), len(uploads), "")
        return UploadResult.model_validate(reply)

    def list(self) -> list[Any]:
        from rag.ingest.library import DocumentInfo

        reply = self.remote._call(
            "GET", "/v1/documents", headers=self._headers(), params=self._params()
        )
        return [DocumentInfo.model_validate(d) for d in reply["documents"]]

    def delete(self, doc_id: str) -> Any:
        from urllib.parse import quote

        from rag.ingest.library import DocumentInfo

        reply = self.remote._call(
            "DELETE",
            f"/v1/documents/{quote(doc_id, safe='')}",
            headers=self._headers(),
            params=self._params(),
        )
        return DocumentInfo.model_validate(reply)

    def open(self, doc_id: str) -> Path:
        raise errors.NotFoundError(f"No indexed document {doc_id[:200]!r} here.")
