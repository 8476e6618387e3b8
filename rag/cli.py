"""The `rag` command: a thin translation of the command line onto `Assistant` and the faces."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperOption

from rag import _offline  # noqa: F401
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Answer, AnswerEvent, Passage, StatusEvent

if TYPE_CHECKING:
    from rag.service.export import SourceURL


def _help_type(param: Any, ctx: Any) -> str | None:
    """What `--help` writes after a parameter: nothing for a flag or an argument (its name says
    it), click's plain type name for an option's value ("--k INTEGER"), never typer's `<bool>`
    / `<str>` tags."""
    if isinstance(param, TyperArgument) or getattr(param, "is_flag", False):
        return None
    if param.metavar:
        return str(param.metavar)
    bare = param.bare_type()
    return {"int": "INTEGER", "float": "NUMBER", "str": "TEXT"}.get(bare, bare.upper())


for _param_class in (TyperArgument, TyperOption):  # typer has no setting for these tags
    setattr(_param_class, "display_type_rich", _help_type)  # noqa: B010

app = typer.Typer(
    help="Ask questions about a document collection and get answers with verified citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line, whatever the width


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """Expected failures become one red line and exit code 1, never a stack trace."""
    try:
        yield
    except RagError as e:
        err.print(f"[bold red]error:[/] {escape(str(e))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


@app.callback()
def _options(
    log_json: Annotated[
        bool,
        typer.Option(
            "--log-json", help="Log one JSON object per line (log.format=json, RAG_LOG__FORMAT)."
        ),
    ] = False,
) -> None:
    from rag.core import logs

    logs.set_default_face("cli")  # the servers name their own face on each request
    if log_json:
        os.environ["RAG_LOG__FORMAT"] = "json"  # for every Settings() this command makes
    with _friendly_errors():
        if Settings().log.format == "json":
            logs.configure("json", Settings().log.level)


def _assistant(collection: str | None = None, *, must_exist: bool = True, **kw: Any) -> Any:
    """The assistant of `collection` (None: the default); only `rag index` may name a new one,
    so a mistyped name is an error rather than a new, empty collection."""
    from rag.service.assistant import Assistant

    settings = Settings().for_collection(collection)
    if collection and must_exist:
        from rag.service.access import not_found
        from rag.service.collections import list_collections

        if collection not in {c.name for c in list_collections(settings)}:
            raise not_found(collection, noun="collection")
    return Assistant(settings, **kw)


CollectionOpt = Annotated[
    str | None,
    typer.Option(
        "--collection", "-c", help="The named collection (default: the default collection)."
    ),
]


LocalOpt = Annotated[
    bool,
    typer.Option(
        "--local",
        help="Answer in this process even when a `rag serve` of the same index runs here.",
    ),
]


def _running_server(collection: str | None, local: bool) -> Any:
    """The `rag serve` of this index and these settings running on this machine, to ask
    instead of loading the models here (rag/service/local_server.py); None with `--local` or
    when there is none that may be asked. Imports nothing heavy: it is decided first."""
    if local:
        return None
    from rag.service.local_server import find

    return find(Settings(), collection)


def print_answer(answer: Answer, out: Console = console, url: SourceURL | None = None) -> None:
    """The answer (its first line answers), then its numbered sources, each with the URL of its
    source view when `url` is given (settings.public_url); for "not stated" or "not in the
    collection", the closest passages as related reading."""
    from rag.ingest.sources import source_place

    out.print(f"[bold yellow]{escape(answer.text)}[/]" if answer.abstained else escape(answer.text))
    if answer.citations:
        out.print("\n[bold]Sources:[/]")
        for c in answer.citations:
            # the readable label (listing and date, page or section), not the stored file name
            where = source_place(c)
            out.print(f"  [{c.number}] [bold]{escape(c.title)}[/] [dim]({escape(where)})[/]")
            link = url(c) if url is not None and c.doc_id else ""
            if link:
                out.print(f"      {escape(link)}", soft_wrap=True)  # one line: it stays clickable
            if not answer.quotes(c):
                out.print(f"      [dim]“{escape(c.snippet)}”[/]")
    if answer.abstained and answer.passages:
        cited = {c.title for c in answer.citations}
        related = list(dict.fromkeys(p.title for p in answer.passages if p.title not in cited))
        if related:
            out.print("\n[bold]Related passages:[/]")
            for title in related[:4]:
                out.print(f"  - {escape(title)}")


def _stream_to_console(events: Iterator[Any], show_status: bool) -> Answer:
    """Consume a stream: a status line (spinner) while it works, never a draft; the caller
    prints the checked answer."""
    answer: Answer | None = None
    with err.status("searching…", spinner="dots") if show_status else nullcontext() as status:
        for ev in events:
            if isinstance(ev, StatusEvent) and status is not None:
                status.update(ev.text)
            elif isinstance(ev, AnswerEvent):
                answer = ev.answer
    assert answer is not None
    return answer


def _loading(show: bool) -> Any:
    return err.status("loading models…", spinner="dots") if show else nullcontext()


def _asking(show: bool) -> Any:
    return err.status("asking the running server…", spinner="dots") if show else nullcontext()


@app.command()
def index(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: the corpus).")
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Rebuild the index from scratch (a damaged one, say): the old store is moved "
            "aside to <index_dir>/chroma.damaged-<time>, then every file and folder it was "
            "built from is read again (or PATHS, if given).",
        ),
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Then keep the collection in step with PATHS: each file added, changed, "
            "renamed or deleted is indexed or forgotten within seconds, until Ctrl-C.",
        ),
    ] = False,
    collection: CollectionOpt = None,
) -> None:
    """Index files or folders (txt, md, pdf, html) into the vector store, incrementally."""
    with _friendly_errors():
        if rebuild and watch:
            raise RagError("--rebuild and --watch do not go together: rebuild, then watch.")
        if rebuild:
            from rag.service.assistant import Assistant

            _, plan, report = Assistant.rebuild(
                Settings().for_collection(collection),
                paths or None,
                on_plan=lambda p: console.print(escape(p.describe())),
            )
            if plan.moved_to is not None:
                console.print(f"The old store was moved to {escape(str(plan.moved_to))}.")
        else:
            a = _assistant(collection, must_exist=False, build_index=False)
            if watch:
                return _watch(a, paths or [a.settings.corpus_dir])
            report = a.index(paths or None, on_wait=lambda msg: err.print(f"[yellow]{msg}[/]"))
        console.print(report.summary())
        for f in report.failed:
            err.print(f"[yellow]failed[/] {escape(f.path)}: {escape(f.reason)}")
        for f in report.ignored:
            err.print(f"[dim]ignored[/] {escape(f.path)}: {escape(f.reason)}")
        for s in report.flagged:
            where = escape(s.title or s.path)
            err.print(f"[yellow]excluded from answers[/] (addresses the model) {where}:")
            err.print(f"  “{escape(s.sentence)}”")


def _watch(a: Any, paths: list[Path]) -> None:
    """`rag index --watch`: one line per file changed (rag/service/watch.py) until Ctrl-C or
    SIGTERM."""
    import threading

    from rag.service.watch import Change, stop_on_signals, watch

    def tell(c: Change) -> None:
        (err if c.kind in ("failed", "ignored", "flagged", "error") else console).print(
            escape(c.line())
        )

    def ready(report: Any) -> None:
        if report is not None:
            console.print(report.summary())
        if not stop.is_set():
            names = ", ".join(escape(str(p)) for p in paths)
            console.print(f"watching {names} for changes (Ctrl-C to stop)")

    stop = threading.Event()
    stopping = "stopping once the current run is done (Ctrl-C again to abandon it)…"
    with stop_on_signals(stop, lambda: err.print(stopping)):
        watch(
            a,
            paths,
            on_change=tell,
            on_ready=ready,
            on_wait=err.print,
            stop=stop,
            on_run=lambda report: console.print(f"= {report.summary()}"),
        )
    console.print("stopped")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    stream: Annotated[bool, typer.Option(help="Show a status line while it works.")] = True,
    collection: CollectionOpt = None,
    open_source: Annotated[
        int | None,
        typer.Option(
            "--open",
            help="Open source N in the browser: its text with the cited sentence marked.",
        ),
    ] = None,
    local: LocalOpt = False,
) -> None:
    """Answer one question, then list the numbered sources.

    When a `rag serve` of the same index (same settings) is running on this machine, the
    question is sent to it: no models to load here, the answer comes seconds sooner, the output
    is the same. Otherwise, or with --local or --open, it is answered in this process.
    """
    with _friendly_errors():
        show = stream and not as_json and err.is_terminal
        server = None if open_source is not None else _running_server(collection, local)
        answer = None
        if server is not None:
            with _asking(show):
                answer = server.ask(question, k=k)  # None: it could not; answered here instead
        if answer is None:
            from rag.service.assistant import clean_question

            clean_question(question, Settings().max_question_chars)  # fail fast, before any model
            with _loading(show):
                a = server = _assistant(collection)
                a.warm_up()  # the model process loads while the question is searched
            answer = _stream_to_console(a.stream(question, k=k), show_status=show)
        if as_json:
            console.print_json(answer.model_dump_json())
        else:
            print_answer(answer, url=_source_url(server))
        if open_source is not None:
            _open_source(server, answer, open_source)
    _exit_now()


def _exit_now() -> None:
    """End the `rag` command as soon as its output is written (issue 26, cold start): the exit
    handlers run (the model process is stopped, the logs flushed), then the process ends without
    the interpreter's tear-down of ~2,600 modules, the store's and the ONNX session's objects,
    which took 0.5–1 s after the last line. Only in the `rag` command itself: called in process
    (tests, CliRunner), it returns."""
    if Path(sys.argv[0]).name != "rag":
        return
    import atexit
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (`rag ask … | head -1`)
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(0)


def _source_url(assistant: Any) -> SourceURL | None:
    """Where a printed source links (the API's source view on settings.public_url, as Slack's
    links); None when public_url is not set. `assistant`: the in-process one or the running
    server asked (each has the CLI's settings for the collection)."""
    settings = getattr(assistant, "settings", None) or Settings()
    if not (settings.public_url or "").strip():
        return None  # no links: rag.service.export, which imports SQLAlchemy (0.3 s), not needed
    from rag.service.export import public_view_url

    # signed for this collection when tokens are on, so a browser opens it (rag/service/links.py)
    return public_view_url(settings.public_url, settings, settings.collection)


def _open_source(assistant: Any, answer: Answer, number: int) -> None:
    """Write the source view of citation [number] (rag/service/source_view.py: the document's
    text as stored, the cited sentence marked; its original file linked as a file:// URL) to a
    temporary HTML file, print its file:// URL (no server needed), and open it where there is a
    graphical browser (or $BROWSER)."""
    import tempfile
    import webbrowser

    from rag.ingest.library import Library
    from rag.ingest.sources import cited_text
    from rag.service.documents import read_document
    from rag.service.source_view import source_view_html

    c = next((c for c in answer.citations if c.number == number), None)
    if c is None or not c.doc_id:
        numbers = ", ".join(str(c.number) for c in answer.citations) or "none"
        raise typer.BadParameter(f"No source [{number}] in this answer (its sources: {numbers}).")
    doc = read_document(assistant.store, c.doc_id)
    try:
        original = Library(assistant.settings, assistant).open(c.doc_id).resolve().as_uri()
        original += f"#page={doc.page}" if doc.page else ""
    except RagError:
        original = ""
    folder = Path(tempfile.mkdtemp(prefix="rag-source-"))
    page = folder / f"source-{number}.html"
    page.write_text(source_view_html(doc, cited_text(c), original), "utf-8")
    url = page.as_uri() + "#cited"
    console.print(f"\nSource [{number}]: {url}", soft_wrap=True)
    graphical = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if graphical or os.environ.get("BROWSER") or sys.platform in ("darwin", "win32"):
        webbrowser.open(url)  # never a terminal browser taking over the terminal


@app.command()
def retrieve(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option(help="Passages to return.")] = 5,
    mode: Annotated[str | None, typer.Option(help="hybrid, vector or bm25.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    collection: CollectionOpt = None,
) -> None:
    """Show the passages retrieval finds for a question, with their scores."""
    with _friendly_errors():
        a = _assistant(collection)
        passages = a.retrieve(question, k=k, mode=mode)
        if as_json:
            console.print_json(json.dumps([p.model_dump() for p in passages]))
            return
        print_passages(passages)


def print_passages(passages: list[Passage], out: Console = console) -> None:
    """Each passage with its title, readable source (listing and date, page or section, as
    `rag ask` prints it; never the stored file's hashed name when it has a label) and score."""
    from rag.ingest.sources import source_place

    for i, p in enumerate(passages, 1):
        where = escape(source_place(p))
        out.print(f"[{i}] [bold]{escape(p.title)}[/] [dim]({where}) score={p.score:.4f}[/]")
        out.print(f"    {escape(p.text[:240])}…")


@app.command()
def chat(collection: CollectionOpt = None, local: LocalOpt = False) -> None:
    """A conversation in the terminal; follow-up questions are understood in context.

    As `rag ask`: a `rag serve` of the same index running on this machine answers when there is
    one (--local: this process does).
    """
    with _friendly_errors():
        server = _running_server(collection, local)
        a: Any = None

        def in_process() -> Any:
            nonlocal a
            if a is None:
                with _loading(err.is_terminal):
                    a = _assistant(collection)
                    a.warm_up()
            return a

        if server is None:
            in_process()
        history: list[tuple[str, str]] = []
        console.print("[dim]Ask about the collection. Empty line or Ctrl-D to quit.[/]")
        while True:
            try:
                q = console.input("[bold green]you>[/] ").strip()
            except EOFError:
                break
            if not q:
                break
            try:
                answer = None
                if server is not None:
                    with _asking(True):
                        answer = server.ask(q, history=history)
                    if answer is None:  # it could not: this process answers from now on
                        server = None
                if answer is None:
                    stream = in_process().stream(q, history=history)
                    answer = _stream_to_console(stream, show_status=True)
            except RagError as e:
                err.print(f"[bold red]error:[/] {escape(str(e))}")
                continue
            print_answer(answer, url=_source_url(server or a))
            history.append((q, answer.text))


@app.command()
def status(collection: CollectionOpt = None) -> None:
    """Documents and chunks in the index, and when it was last built."""
    with _friendly_errors():
        a = _assistant(collection, build_index=False)
        console.print_json(a.status().model_dump_json())


@app.command()
def collections(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The collections (configured or indexed) with their sizes; the default is marked."""
    with _friendly_errors():
        from rag.service.collections import list_collections

        infos = list_collections(Settings())
        if as_json:
            console.print_json(json.dumps([i.model_dump() for i in infos]))
            return
        for i in infos:
            mark = " (default)" if i.default else ""
            about = f"  [dim]{escape(i.description)}[/]" if i.description else ""
            console.print(f"[bold]{escape(i.name)}[/]{mark}: {i.chunks:,} chunks{about}")


def _run_face(module: str, func: str) -> Callable[..., None]:
    import importlib

    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


Host = Annotated[str | None, typer.Option(help="Address to listen on (default: the settings').")]
Port = Annotated[int | None, typer.Option(help="Port to listen on (default: the settings').")]
Insecure = Annotated[
    bool,
    typer.Option(
        "--insecure", help="Allow a non-loopback address without a token or login (trusted LANs)."
    ),
]


def _listening(section: str, host: str | None, port: int | None) -> Settings:
    """The settings with `section`'s host and port replaced by the command line's, if given."""
    settings = Settings()
    face = getattr(settings, section)
    changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    return settings.model_copy(update={section: face.model_copy(update=changes)})


@app.command()
def ui(host: Host = None, port: Port = None, insecure: Insecure = False) -> None:
    """Start the Gradio chat UI (host, port and login from the settings or the options)."""
    with _friendly_errors():
        _run_face("rag.ui", "launch")(_listening("ui", host, port), insecure=insecure)


@app.command()
def slack(host: Host = None, port: Port = None) -> None:
    """Start the Slack bot (Socket Mode, or HTTP on host:port, from the settings)."""
    with _friendly_errors():
        _run_face("rag.slack.app", "run")(_listening("slack", host, port))


@app.command()
def serve(host: Host = None, port: Port = None, insecure: Insecure = False) -> None:
    """Start the HTTP API (OpenAI-compatible chat completions with citations)."""
    with _friendly_errors():
        _run_face("rag.api", "serve")(_listening("api", host, port), insecure=insecure)


@app.command()
def mcp(
    index_dir: Annotated[
        Path | None, typer.Option(help="The index folder (default: the settings' index_dir).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="RAG_MCP_TOKEN",
            help="Act as this API token: only its collections (default: every collection).",
        ),
    ] = None,
) -> None:
    """Serve the MCP tools (search, ask, list_collections) and documents over stdio, for an MCP
    client that starts this command; `rag serve` serves them over HTTP at /mcp."""
    with _friendly_errors():
        settings = Settings() if index_dir is None else Settings(index_dir=index_dir)
        _run_face("rag.mcp.stdio", "run")(settings, token=token)


@app.command(name="eval")
def eval_(
    dataset: Annotated[
        Path | None, typer.Option(help="A question set (JSONL) instead of a split.")
    ] = None,
    split: Annotated[
        str, typer.Option(help="all | tune | test (test is held out: never tune on it).")
    ] = "all",
    quick: Annotated[
        bool, typer.Option("--quick", help="The assistant's answers only (no baselines).")
    ] = False,
    k: Annotated[int, typer.Option(help="Passages per question.")] = 5,
    retrieval_only: Annotated[bool, typer.Option("--retrieval-only")] = False,
    out: Annotated[Path | None, typer.Option(help="Report folder.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    collection: CollectionOpt = None,
) -> None:
    """Measure retrieval, answers, citations and abstention; write a report."""
    with _friendly_errors():
        from rag.evaluation import main as eval_main

        report_dir = eval_main(
            dataset=dataset,
            k=k,
            retrieval_only=retrieval_only,
            out_dir=out,
            limit=limit,
            assistant=_assistant(collection) if collection else None,
            split=split,
            quick=quick,
        )
        console.print(f"report: {report_dir}")


feedback_app = typer.Typer(help="The feedback store (thumbs up / down from the UI and Slack).")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(path: Annotated[Path, typer.Argument(help="Output JSONL.")]) -> None:
    """Export rated answers as an eval question set."""
    from rag.state.feedback import FeedbackStore

    n = FeedbackStore.from_settings(Settings()).export_eval(path)
    console.print(f"{n} questions written to {path}")


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
