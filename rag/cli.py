"""The `rag` command: a thin translation of the command line onto `Assistant` and the faces."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from rag import _offline  # noqa: F401
from rag.errors import RagError
from rag.settings import Settings
from rag.types import Answer, AnswerEvent, StatusEvent

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


def _assistant(**kw: Any) -> Any:
    from rag.assistant import Assistant

    return Assistant(Settings(), **kw)


def print_answer(answer: Answer, out: Console = console) -> None:
    """The answer (its first line answers), then its numbered sources; for "not stated" or
    "not in the collection", the closest passages as related reading."""
    out.print(f"[bold yellow]{escape(answer.text)}[/]" if answer.abstained else escape(answer.text))
    if answer.citations:
        out.print("\n[bold]Sources:[/]")
        for c in answer.citations:
            out.print(f"  [{c.number}] [bold]{escape(c.title)}[/] [dim]({escape(c.source)})[/]")
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
) -> None:
    """Index files or folders (txt, md, pdf, html) into the vector store, incrementally."""
    with _friendly_errors():
        if rebuild:
            from rag.assistant import Assistant

            _, plan, report = Assistant.rebuild(
                Settings(), paths or None, on_plan=lambda p: console.print(escape(p.describe()))
            )
            if plan.moved_to is not None:
                console.print(f"The old store was moved to {escape(str(plan.moved_to))}.")
        else:
            a = _assistant(build_index=False)
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


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    stream: Annotated[bool, typer.Option(help="Show a status line while it works.")] = True,
) -> None:
    """Answer one question, then list the numbered sources."""
    with _friendly_errors():
        from rag.assistant import clean_question

        clean_question(question, Settings().max_question_chars)  # fail fast, before any model
        show = stream and not as_json and err.is_terminal
        with _loading(show):
            a = _assistant()
            a.warm_up()  # the model process loads while the question is searched
        answer = _stream_to_console(a.stream(question, k=k), show_status=show)
        if as_json:
            console.print_json(answer.model_dump_json())
        else:
            print_answer(answer)


@app.command()
def retrieve(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option(help="Passages to return.")] = 5,
    mode: Annotated[str | None, typer.Option(help="hybrid, vector or bm25.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the passages retrieval finds for a question, with their scores."""
    with _friendly_errors():
        a = _assistant()
        passages = a.retrieve(question, k=k, mode=mode)
        if as_json:
            console.print_json(json.dumps([p.model_dump() for p in passages]))
            return
        for i, p in enumerate(passages, 1):
            console.print(
                f"[{i}] [bold]{escape(p.title)}[/] [dim]{p.source} score={p.score:.4f}[/]"
            )
            console.print(f"    {escape(p.text[:240])}…")


@app.command()
def chat() -> None:
    """A conversation in the terminal; follow-up questions are understood in context."""
    with _friendly_errors():
        with _loading(err.is_terminal):
            a = _assistant()
            a.warm_up()
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
                answer = _stream_to_console(a.stream(q, history=history), show_status=True)
            except RagError as e:
                err.print(f"[bold red]error:[/] {escape(str(e))}")
                continue
            print_answer(answer)
            history.append((q, answer.text))


@app.command()
def status() -> None:
    """Documents and chunks in the index, and when it was last built."""
    with _friendly_errors():
        a = _assistant(build_index=False)
        console.print_json(a.status().model_dump_json())


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


@app.command(name="eval")
def eval_(
    dataset: Annotated[Path | None, typer.Option(help="A question set (JSONL).")] = None,
    k: Annotated[int, typer.Option(help="Passages per question.")] = 5,
    retrieval_only: Annotated[bool, typer.Option("--retrieval-only")] = False,
    out: Annotated[Path | None, typer.Option(help="Report folder.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
) -> None:
    """Measure retrieval, answers, citations and abstention; write a report."""
    with _friendly_errors():
        from rag.evaluation import main as eval_main

        report_dir = eval_main(
            dataset=dataset, k=k, retrieval_only=retrieval_only, out_dir=out, limit=limit
        )
        console.print(f"report: {report_dir}")


feedback_app = typer.Typer(help="The feedback store (thumbs up / down from the UI and Slack).")
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(path: Annotated[Path, typer.Argument(help="Output JSONL.")]) -> None:
    """Export rated answers as an eval question set."""
    from rag.feedback import FeedbackStore

    n = FeedbackStore.from_settings(Settings()).export_eval(path)
    console.print(f"{n} questions written to {path}")


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
