"""Metrics, structured logs and traces, seen from outside real processes.

`rag serve` and `rag ui` run in their own processes on 127.0.0.1. `/metrics` is parsed with
`prometheus_client`'s own parser before and after a few requests (an answer, an abstention, an
error, a retrieval, feedback), and the counters must move by exactly what was sent. The API
logs JSON lines (`RAG_LOG__FORMAT=json`): every line must parse, and one request's id must be
on its retrieve, generate and check lines. Traces go to a local OTLP/HTTP receiver started by
this test: a stand-in for an OpenTelemetry collector that speaks the same wire format (protobuf
`ExportTraceServiceRequest` on `POST /v1/traces`, decoded with `opentelemetry-proto`).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from servers import VENV_BIN, free_port, isolated_env, running

from rag.core.settings import Settings
from rag.core.types import Answer
from rag.state.feedback import FeedbackStore

pytestmark = pytest.mark.slow

TOKEN = "user-token-0123456789"
METRICS_TOKEN = "metrics-token-0123456789"
QUESTION = "How much does ZipCache cut prefill latency?"
OFF_TOPIC = "What is the best recipe for a Neapolitan pizza dough with a long cold rise?"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, keyed by (sample name, labels), parsed by prometheus_client."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when absent (a counter not yet incremented has no series)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- a local OTLP/HTTP receiver ----------------------------------------------------------


@dataclass
class Receiver:
    url: str
    spans: list[Any] = field(default_factory=list)

    def wait_for(self, request_id: str, names: set[str], timeout: float = 30.0) -> list[Any]:
        """The spans of one request, once every name in `names` has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in list(self.spans) if attrs(s).get("rag.request_id") == request_id]
            if names <= {s.name for s in found}:
                return found
            time.sleep(0.3)
        got = sorted({s.name for s in self.spans})
        raise AssertionError(f"spans {names} of {request_id} never arrived; got {got}")


def attrs(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in span.attributes:
        v = kv.value
        out[kv.key] = getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None
    return out


@pytest.fixture(scope="module")
def otlp() -> Iterator[Receiver]:
    """Accepts OTLP/HTTP protobuf trace exports on 127.0.0.1 and keeps the decoded spans."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/v1/traces" or "protobuf" not in self.headers.get("Content-Type", ""):
                self.send_response(404)
                self.end_headers()
                return
            export = ExportTraceServiceRequest.FromString(body)
            for resource_spans in export.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    receiver.spans.extend(scope_spans.spans)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


# --- the API process ---------------------------------------------------------------------


@dataclass
class Server:
    url: str
    log: Path
    state_db: Path

    def scrape(self) -> Samples:
        r = httpx.get(f"{self.url}/metrics", headers=SCRAPE, timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        return parse(r.text)

    def chat(self, question: str, request_id: str | None = None) -> httpx.Response:
        headers = {**AUTH, **({"X-Request-ID": request_id} if request_id else {})}
        body = {"model": "rag", "messages": [{"role": "user", "content": question}]}
        return httpx.post(
            f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=300
        )


@pytest.fixture(scope="module")
def api(
    rag_env: dict[str, str],
    settings: Settings,
    otlp: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """`rag serve` with a user token, a metrics token, JSON logs and traces to `otlp`, over a
    copy of the session's index and a state database of its own."""
    where = tmp_path_factory.mktemp("metrics-api")
    port = free_port()
    env = {
        **isolated_env(rag_env, settings.index_dir, where),
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_API__TOKEN": TOKEN,
        "RAG_TELEMETRY__METRICS_TOKEN": METRICS_TOKEN,
        "RAG_LOG__FORMAT": "json",
        "RAG_TELEMETRY__OTLP_ENDPOINT": otlp.url,
        "RAG_LLM__MAX_TOKENS": "120",
        # the model restates (off by default for the embedded model): its stages are measured
        "RAG_LLM__RESTATE": "true",
    }
    log = where / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", log, env, timeout=300):
        yield Server(url, log, where / "state.sqlite3")


def test_counters_move_by_what_was_asked(api: Server) -> None:
    before = api.scrape()
    answered = api.chat(QUESTION)
    assert answered.status_code == 200, answered.text
    abstained = api.chat(OFF_TOPIC)
    assert abstained.status_code == 200 and abstained.json()["abstained"] is True
    empty = api.chat("   ")
    assert empty.status_code == 400
    retrieved = httpx.post(
        f"{api.url}/v1/retrieve", json={"question": "KV cache quantization"}, headers=AUTH
    )
    assert retrieved.status_code == 200
    after = api.scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    api_papers = {"face": "api", "collection": "papers"}
    assert moved("rag_questions_total", **api_papers) == 3  # the empty one is a question too
    assert moved("rag_answers_total", **api_papers, outcome="answered") == 1
    assert moved("rag_answers_total", **api_papers, outcome="abstained") == 1
    assert moved("rag_abstentions_total", **api_papers, reason="off_topic") == 1
    assert moved("rag_errors_total", **api_papers, error="EmptyQuestionError") == 1
    assert moved("rag_retrievals_total", **api_papers) == 1
    chat_route = {"face": "api", "route": "/v1/chat/completions", "method": "POST"}
    assert moved("rag_http_requests_total", **chat_route, status="200") == 2
    assert moved("rag_http_requests_total", **chat_route, status="400") == 1
    assert (
        moved(
            "rag_http_requests_total", face="api", route="/v1/retrieve", method="POST", status="200"
        )
        == 1
    )

    # seconds per stage: both answers and the retrieval retrieved; one answer went to the LLM
    stages = {s: moved("rag_stage_seconds_count", **api_papers, stage=s) for s in STAGES}
    assert stages == {
        "retrieve": 3,
        "total": 2,
        "first_token": 1,
        "generate": 1,
        "check": 1,
    }, stages
    assert moved("rag_stage_seconds_sum", **api_papers, stage="generate") > 0
    # the tokens the answer reports are the tokens counted
    usage = answered.json()["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert moved("rag_llm_tokens_total", **api_papers, direction="in") == usage["prompt_tokens"]
    assert (
        moved("rag_llm_tokens_total", **api_papers, direction="out") == usage["completion_tokens"]
    )

    # the index size is read from the store at scrape time
    health = httpx.get(f"{api.url}/health").json()
    assert value(after, "rag_index_chunks", collection="papers") == health["chunks"] > 0
    assert value(after, "rag_index_documents", collection="papers") == health["documents"] > 0


STAGES = ("retrieve", "total", "first_token", "generate", "check")


def test_feedback_counts_come_from_the_shared_store(api: Server) -> None:
    """Ratings recorded by another process (as the UI and the Slack bot record them) show on
    the API's /metrics, read from the state store; this process counts its own records."""
    from prometheus_client import REGISTRY

    before = api.scrape()
    store = FeedbackStore(api.state_db)
    answer = Answer(question="q", text="a")
    own = REGISTRY.get_sample_value("rag_feedback_total", {"channel": "ui", "rating": "up"}) or 0
    for rating in (1, 1, -1):
        store.record(answer, rating=rating, channel="ui")
    store.record(answer, rating=-1, channel="slack")
    after = api.scrape()

    def moved(**labels: str) -> float:
        return value(after, "rag_feedback_stored", **labels) - value(
            before, "rag_feedback_stored", **labels
        )

    assert moved(channel="ui", rating="up") == 2
    assert moved(channel="ui", rating="down") == 1
    assert moved(channel="slack", rating="down") == 1
    mine = REGISTRY.get_sample_value("rag_feedback_total", {"channel": "ui", "rating": "up"})
    assert mine == own + 2


def test_metrics_need_their_token_and_hold_no_text(api: Server) -> None:
    """The API needs a token, so /metrics needs the metrics token: the user token is not
    enough. What it serves has counts and names, never a question's or a document's text."""
    assert httpx.get(f"{api.url}/metrics").status_code == 401
    assert httpx.get(f"{api.url}/metrics", headers=AUTH).status_code == 401
    r = httpx.get(f"{api.url}/metrics", headers=SCRAPE)
    assert r.status_code == 200
    api.chat(QUESTION)
    text = httpx.get(f"{api.url}/metrics", headers=SCRAPE).text
    for words in ("ZipCache", "prefill", "pizza", "KV cache"):
        assert words not in text


def test_json_logs_follow_one_request(api: Server) -> None:
    request_id = f"test-{uuid.uuid4().hex[:12]}"
    r = api.chat(QUESTION, request_id=request_id)
    assert r.status_code == 200
    assert r.headers["x-request-id"] == request_id
    assert api.chat(OFF_TOPIC).headers["x-request-id"] != request_id  # a new id each request

    lines = [line for line in api.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, uvicorn's too
    assert all({"time", "level", "logger", "message"} <= set(rec) for rec in records)
    mine = [rec for rec in records if rec.get("request_id") == request_id]
    stages = [rec.get("stage") for rec in mine if rec.get("stage")]
    assert stages == ["retrieve", "generate", "check", "answer"], stages
    assert all(rec["face"] == "api" for rec in mine)
    by_stage = {rec["stage"]: rec for rec in mine if rec.get("stage")}
    assert by_stage["retrieve"]["passages"] >= 1
    assert by_stage["generate"]["tokens_out"] > 0
    assert isinstance(by_stage["check"]["kept"], bool)
    assert by_stage["answer"]["outcome"] == "answered"
    # an access line of the same request, from uvicorn, carries the id too
    assert any(rec["logger"] == "uvicorn.access" for rec in mine)
    # the question's text is not logged
    assert not any("ZipCache" in line for line in lines)


def test_a_streamed_answer_keeps_its_request_id(api: Server) -> None:
    """A streamed response is produced step by step in worker threads; every step's lines
    still carry the request's id (the answer line is logged by a later step than retrieve)."""
    request_id = f"stream-{uuid.uuid4().hex[:12]}"
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    headers = {**AUTH, "X-Request-ID": request_id}
    with httpx.stream(
        "POST", f"{api.url}/v1/chat/completions", json=body, headers=headers, timeout=300
    ) as r:
        assert r.status_code == 200 and r.headers["x-request-id"] == request_id
        events = [line for line in r.iter_lines() if line.startswith("data:")]
    assert events[-1] == "data: [DONE]"
    deadline = time.monotonic() + 10  # the access line is written once the response ends
    while True:
        records = [json.loads(x) for x in api.log.read_text().splitlines() if x.strip()]
        mine = [rec for rec in records if rec.get("request_id") == request_id]
        if any(rec["logger"] == "uvicorn.access" for rec in mine) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    stages = [rec["stage"] for rec in mine if rec.get("stage")]
    assert stages == ["retrieve", "generate", "check", "answer"], stages


def test_spans_reach_the_otlp_endpoint(api: Server, otlp: Receiver) -> None:
    request_id = f"trace-{uuid.uuid4().hex[:12]}"
    assert api.chat(QUESTION, request_id=request_id).status_code == 200
    spans = otlp.wait_for(request_id, {"rag.answer", "rag.retrieve", "rag.generate", "rag.check"})
    root = next(s for s in spans if s.name == "rag.answer")
    for s in spans:
        assert attrs(s)["rag.face"] == "api"
        if s is not root:  # the stages hang under the request's span, in its trace
            assert s.trace_id == root.trace_id and s.parent_span_id == root.span_id
            assert s.end_time_unix_nano >= s.start_time_unix_nano
    generate = next(s for s in spans if s.name == "rag.generate")
    assert attrs(generate)["rag.tokens_out"] > 0


# --- the UI process ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui_url(
    rag_env: dict[str, str], settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`rag ui` without a login (so /metrics is open), the composed lead only (no LLM)."""
    where = tmp_path_factory.mktemp("metrics-ui")
    port = free_port()
    env = {
        **isolated_env(rag_env, settings.index_dir, where),
        "RAG_UI__HOST": "127.0.0.1",
        "RAG_UI__PORT": str(port),
        "RAG_LLM__RESTATE": "false",
    }
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "ui"], f"{url}/config", where / "ui.log", env, 300):
        yield url


def test_ui_process_serves_metrics(ui_url: str) -> None:
    from gradio_client import Client

    def scrape() -> Samples:
        deadline = time.monotonic() + 30  # the route is added right after Gradio starts
        while (r := httpx.get(f"{ui_url}/metrics")).status_code == 404:
            assert time.monotonic() < deadline, "no /metrics on the UI"
            time.sleep(0.5)
        assert r.status_code == 200, r.text
        return parse(r.text)

    before = scrape()
    Client(ui_url, verbose=False).predict(QUESTION, [], 3, True, api_name="/chat")
    after = scrape()
    ui_papers = {"face": "ui", "collection": "papers"}
    assert (
        value(after, "rag_questions_total", **ui_papers)
        - value(before, "rag_questions_total", **ui_papers)
        == 1
    )
    assert value(after, "rag_stage_seconds_count", **ui_papers, stage="retrieve") >= 1
    assert value(after, "rag_index_chunks", collection="papers") > 0


# --- in process ----------------------------------------------------------------------------


def test_who_may_scrape() -> None:
    from pydantic import SecretStr

    from rag.core.metrics import scrape_allowed

    plain = Settings()
    assert scrape_allowed(plain, None, face_protected=False)  # an open face: open metrics
    assert not scrape_allowed(plain, None, face_protected=True)  # no admin token: nobody
    sec = plain.security.model_copy(update={"admin_token": SecretStr("adm-0123456789")})
    admin = plain.model_copy(update={"security": sec})
    assert not scrape_allowed(admin, "Bearer wrong", face_protected=True)
    assert scrape_allowed(admin, "Bearer adm-0123456789", face_protected=True)
    tel = plain.telemetry.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    scraped = admin.model_copy(update={"telemetry": tel})
    assert not scrape_allowed(scraped, None, face_protected=False)  # the token, once set, always
    assert scrape_allowed(scraped, f"Bearer {METRICS_TOKEN}", face_protected=False)
    assert scrape_allowed(scraped, "bearer adm-0123456789", face_protected=True)
    assert not scrape_allowed(scraped, METRICS_TOKEN, face_protected=True)  # not a bearer


def test_faces_label_and_a_dead_otlp_endpoint_breaks_nothing(assistant: Any) -> None:
    """A question asked as the Slack bot asks it is counted under face="slack"; tracing on, to
    an endpoint where nothing listens, neither fails nor holds up the answer (spans are lost,
    and the exporter logs it)."""
    from prometheus_client import REGISTRY

    from rag.core import logs, tracing

    labels = {"face": "slack", "collection": "papers", "reason": "off_topic"}
    before = REGISTRY.get_sample_value("rag_abstentions_total", labels) or 0.0
    dead = f"http://127.0.0.1:{free_port()}"
    assert tracing.configure(Settings().telemetry.model_copy(update={"otlp_endpoint": dead}))
    try:
        assistant.warm_up()  # loading the models is not what is timed
        start = time.perf_counter()
        with logs.request("slack"):
            answer = assistant.ask(OFF_TOPIC, restate=False)
        seconds = time.perf_counter() - start
        tracing.flush(1.0)  # the export fails: logged, never raised
    finally:
        tracing.shutdown()
    assert answer.abstained
    assert seconds < 10, seconds  # the exporter's 5 s timeout is not the answer's
    assert REGISTRY.get_sample_value("rag_abstentions_total", labels) == before + 1
