"""Signed links to the source view (issue 25): with bearer tokens on, the URL of a `url_citation`
annotation (and of an exported source, and of the original file the view links to) carries `c`,
`exp` and `sig` (rag/service/links.py), so that a browser, which cannot send the token, opens it
with a plain GET; a link changed in any part, used for another document, or expired is refused.
Without tokens, links are as before. `rag serve` runs in its own process over the session's index,
called with plain HTTP; the first tests need no server."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urldefrag, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from pydantic import SecretStr
from servers import VENV_BIN, free_port, running

from rag.core.settings import APISettings, Settings
from rag.core.types import Citation

TOKEN = "test-token-signed-links-0123"
SECRET = "link-secret-for-the-signed-links-tests-0123456789"
QUESTION = "What is KV cache quantization and which papers study it?"
CITE = Citation(
    number=1, title="T", source="s.txt", snippet="A sentence & more.", score=0.5, doc_id="d1"
)


def _with(url: str, **changes: str) -> str:
    """`url` with some of its query parameters replaced (its fragment kept)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(urldefrag(url).url, headers=headers, timeout=30)


# -- the signer, no server ------------------------------------------------------------------------


def test_links_are_unsigned_without_tokens_and_signed_with_them(tmp_path: Path) -> None:
    from rag.service.export import public_view_url, view_url
    from rag.service.links import link_signer

    plain = Settings(index_dir=tmp_path)
    assert link_signer(plain) is None
    assert view_url("http://h/", signer=link_signer(plain))(CITE) == (
        "http://h/v1/sources/d1/view?hl=A%20sentence%20%26%20more.#cited"
    )
    with_settings, without = public_view_url("http://h", plain), public_view_url("http://h")
    assert with_settings and without and with_settings(CITE) == without(CITE)
    assert not (tmp_path / "link-secret").exists(), "no secret made while links are unsigned"
    on = Settings(index_dir=tmp_path, api=APISettings(token=SecretStr(TOKEN)))
    url = view_url("http://h/", signer=link_signer(on), collection="papers")(CITE)
    assert url.startswith("http://h/v1/sources/d1/view?hl=A%20sentence%20%26%20more.&c=papers&")
    assert url.endswith("#cited") and re.search(r"&exp=\d+&sig=[0-9a-f]{64}#", url)
    # a bot that calls a token-protected API (api_token) signs too
    assert link_signer(Settings(index_dir=tmp_path, api_token=SecretStr(TOKEN))) is not None


def test_the_secret_is_made_once_kept_private_and_reused(tmp_path: Path) -> None:
    from rag.service.links import LinkError, LinkSigner

    on = Settings(index_dir=tmp_path / "index", api=APISettings(token=SecretStr(TOKEN)))
    first = LinkSigner(on)
    q = first.query("view", "papers", "d1", "hl")
    kept = tmp_path / "index" / "link-secret"
    assert kept.exists() and stat.S_IMODE(kept.stat().st_mode) == 0o600
    params = {k: v[0] for k, v in parse_qs(q).items()}
    # another process (a new signer over the same folder) checks what the first one signed
    assert LinkSigner(on).check("view", "papers", "d1", "hl", params["exp"], params["sig"])
    with pytest.raises(LinkError, match="does not match"):
        LinkSigner(on).check("file", "papers", "d1", "hl", params["exp"], params["sig"])
    # an explicit secret wins over the kept one
    given = on.model_copy(update={"api": on.api.model_copy(update={"link_secret": SecretStr("x")})})
    with pytest.raises(LinkError, match="does not match"):
        LinkSigner(given).check("view", "papers", "d1", "hl", params["exp"], params["sig"])
    with pytest.raises(LinkError, match="expired"):
        LinkSigner(on).check(
            "view", "papers", "d1", "hl", params["exp"], params["sig"], now=int(params["exp"])
        )


# -- against `rag serve` ---------------------------------------------------------------------------


def _serve(rag_env: dict[str, str], log: Path, **extra: str) -> Any:
    port = free_port()
    env = {
        **rag_env,
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_LLM__MAX_TOKENS": "120",
        **extra,
    }
    ready = f"http://127.0.0.1:{port}/health"
    return port, running([str(VENV_BIN / "rag"), "serve"], ready, log, env)


@pytest.fixture(scope="module")
def api_url(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("rag-serve-signed") / "serve.log"
    port, server = _serve(
        rag_env, log, RAG_API__TOKEN=TOKEN, RAG_API__LINK_SECRET=SECRET, RAG_API__LINK_TTL_S="3600"
    )
    with server:
        yield f"http://127.0.0.1:{port}"


def _chat(api_url: str, token: str | None, **extra: object) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}], **extra}
    r = httpx.post(f"{api_url}/v1/chat/completions", json=body, headers=headers, timeout=300)
    assert r.status_code == 200, r.text[:500]
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def answered(api_url: str) -> dict[str, Any]:
    return _chat(api_url, TOKEN, conversation_id="new")


def _urls(resp: dict[str, Any]) -> list[str]:
    notes = resp["choices"][0]["message"]["annotations"]
    assert notes, "the answer cites"
    return list(dict.fromkeys(a["url_citation"]["url"] for a in notes))


@pytest.mark.slow
def test_annotation_urls_open_in_a_browser_without_the_token(
    api_url: str, answered: dict[str, Any]
) -> None:
    for url in _urls(answered):
        q = parse_qs(urlsplit(url).query)
        assert url.startswith(f"{api_url}/v1/sources/") and "/view?hl=" in url, url
        assert url.endswith("#cited") and q["c"] == ["papers"] and len(q["sig"][0]) == 64
        exp = int(q["exp"][0])
        assert time.time() + 3500 < exp <= time.time() + 3600  # api.link_ttl_s
        r = _get(url)  # a plain GET, no Authorization header: what a browser sends
        assert r.status_code == 200, (url, r.text[:300])
        assert '<mark id="cited">' in r.text
        assert r.headers["content-type"].startswith("text/html")
        # the original file, one click away, opens the same way, until the same time
        original = re.search(r'<a href="([^"]+)"[^>]*>original file', r.text)
        assert original, r.text[-1500:]
        file_url = unescape(original.group(1))
        assert parse_qs(urlsplit(file_url).query)["exp"] == [str(exp)]
        file = _get(file_url)
        assert file.status_code == 200 and file.headers["content-type"].startswith("text/plain")
        assert _get(file_url.split("?")[0]).status_code == 401, "the file needs a token or a sig"


@pytest.mark.slow
def test_changed_moved_or_expired_links_are_refused(api_url: str, answered: dict[str, Any]) -> None:
    from rag.service.links import LinkSigner

    url = _urls(answered)[0]
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    sig = q["sig"]
    refused = {
        "tampered signature": _with(url, sig=sig[:-1] + ("0" if sig[-1] != "0" else "1")),
        "later expiry": _with(url, exp=str(int(q["exp"]) + 86400)),
        "another sentence": _with(url, hl="Another sentence entirely."),
        "another collection": _with(url, c="other"),
    }
    # the same signature on another document the caller could open with the token
    other = next((u for u in _urls(answered) if u.split("/view")[0] != url.split("/view")[0]), None)
    assert other is not None, "the answer cites two documents"
    refused["another document"] = other.split("?")[0] + "?" + urlsplit(url).query
    for why, bad in refused.items():
        r = _get(bad)
        assert r.status_code == 403, (why, r.status_code, r.text[:300])
        assert "signature does not match" in r.text, (why, r.text[:300])
    assert _get(_with(url, sig=sig.upper())).status_code == 403
    # expired: signed with the server's own secret, a minute ago
    signer = LinkSigner(Settings(api=APISettings(link_secret=SecretStr(SECRET))))
    doc_path = url.split("?")[0]
    doc_id = doc_path.rsplit("/", 2)[1]
    unsigned = doc_path + "?" + urlencode({"hl": q["hl"]})
    past = int(time.time()) - 60
    expired = _get(f"{unsigned}&" + signer.query("view", "papers", doc_id, q["hl"], exp=past))
    assert expired.status_code == 403 and "expired" in expired.text, expired.text[:300]
    fresh = f"{unsigned}&" + signer.query("view", "papers", doc_id, q["hl"])
    assert _get(fresh).status_code == 200, "the same secret signs a link the server accepts"
    # no signature at all: as before, 401; the token still opens it
    assert _get(unsigned).status_code == 401
    assert _get(unsigned, TOKEN).status_code == 200
    assert _get(_with(url, sig="0" * 64), TOKEN).status_code == 200, "a token is enough"


@pytest.mark.slow
def test_exported_sources_open_without_the_token(api_url: str, answered: dict[str, Any]) -> None:
    cid = answered["conversation_id"]
    r = httpx.get(
        f"{api_url}/v1/conversations/{cid}/export",
        params={"format": "json"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text[:300]
    urls = [c["url"] for t in r.json()["turns"] for c in t["citations"]]
    assert urls
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        assert query["c"] == ["papers"] and len(query["sig"][0]) == 64, url
        got = _get(url)
        assert got.status_code == 200, (url, got.text[:300])
        view = url.split("?")[0] + "/view?" + urlsplit(url).query
        assert _get(view).status_code == 403, "a file's link does not open the view"


@pytest.mark.slow
def test_without_tokens_the_links_stay_as_before(
    rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from rag.service.export import view_url

    log = tmp_path_factory.mktemp("rag-serve-open") / "serve.log"
    secret = Path(rag_env["RAG_INDEX_DIR"]) / "link-secret"
    had_secret = secret.exists()  # another test of this session may have made one with tokens
    env = {k: v for k, v in rag_env.items() if not k.startswith(("RAG_API__", "RAG_ACCESS"))}
    port, server = _serve(env, log)
    with server:
        base = f"http://127.0.0.1:{port}"
        resp = _chat(base, None)
        citations = [Citation.model_validate(c) for c in resp["citations"]]
        by_url = {view_url(f"{base}/")(c) for c in citations}
        for url in _urls(resp):
            assert "sig=" not in url and "exp=" not in url, url
            assert url in by_url
            assert _get(url).status_code == 200
    assert secret.exists() == had_secret  # without tokens no secret is made


def test_slack_links_are_signed_for_the_channels_collection(tmp_path: Path) -> None:
    from rag.core.settings import SlackSettings
    from rag.service.export import public_view_url
    from rag.slack.handlers import SlackBot
    from rag.state.feedback import FeedbackStore

    on = Settings(index_dir=tmp_path, api=APISettings(token=SecretStr(TOKEN)))
    mapped = SlackSettings(channel_collections={"C0OTHER": "other"})
    bot = SlackBot(
        object(),  # type: ignore[arg-type]  # no question is asked here
        mapped,
        FeedbackStore(str(tmp_path / "feedback.sqlite3")),
        links=lambda name: public_view_url("https://rag.example.org", on, name),
    )
    for channel, collection in (("C0OTHER", "other"), ("D0DIRECT", "")):
        url = bot._url(channel)
        assert url is not None
        query = parse_qs(urlsplit(url(CITE)).query, keep_blank_values=True)
        assert query["c"] == [collection] and len(query["sig"][0]) == 64
