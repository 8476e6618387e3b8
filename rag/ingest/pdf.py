"""A PDF's text, read with bounded output and in bounded time.

A small PDF can hold a great deal of work: a 12 KB file whose 40 pages share one 2 MB content
stream gives 1.7 M characters a page, 13 s of pypdf a page, and thousands of chunks. So:

- **Output** is counted as pypdf produces it (its `visitor_text` callback, once per piece of text):
  past `page_chars` on one page, or `chars` in the whole document, the visitor raises and the
  extraction stops there. The file is refused, not truncated: a partial document would be cited
  as if it were whole.
- **Time** is bounded by reading in a child process that is killed after `seconds`. pypdf cannot
  be interrupted in-thread, and checking the clock between pages or in its callbacks does not bound
  the worst case: it decompresses and parses a page's whole content stream before the first
  callback, and nested form XObjects multiply the work without any text. The child also carries
  `RLIMIT_CPU`, so it dies even when its parent was killed (`kill -9`) before it could kill it.

The child is this file run as a script (`python -I pdf.py`): it imports pypdf and nothing of the
application, and answers in JSON on its stdout. A fresh interpreter costs about 0.3 s a PDF; a
forked or forkserver child would be cheaper but forks a threaded server (a lock held by another
thread at the fork deadlocks the child) or re-imports the caller's main script (multiprocessing's
"spawn" rule, which breaks any script without a `__main__` guard).
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

Pages = list[tuple[int, str]]  # (page number from 1, its text)


@dataclass(frozen=True)
class PdfLimits:
    """Bounds on reading one PDF (`security.max_pdf_page_chars`, `max_pdf_chars`,
    `pdf_time_limit_s`); `None` is no bound on that."""

    page_chars: int | None = None
    chars: int | None = None
    seconds: float | None = None


class PdfTooLargeError(ValueError):
    """A PDF gives more text than its limits allow."""


class PdfTimeoutError(TimeoutError):
    """Reading a PDF took longer than its time limit."""


def read_pdf(
    path: Path, limits: PdfLimits | None = None, fd: int | None = None
) -> tuple[str, Pages]:
    """The PDF's own title (its metadata; "" when none) and the text of each page, numbered from
    1 as a viewer counts them (`#page=N`); raises the reader's error, `PdfTooLargeError` or
    `PdfTimeoutError`. With `fd` (the file already open, where rag/ingest/paths.py checked it
    is) the PDF is read through that descriptor, not by opening `path` again."""
    limits = limits or PdfLimits()
    source = Path(f"/dev/fd/{fd}") if fd is not None else Path(path)
    if limits.seconds is None:
        return extract(source, limits)
    return _in_child(source, limits, limits.seconds, fd)


def extract(path: Path, limits: PdfLimits) -> tuple[str, Pages]:
    """Read the PDF here, its output bounded (not its time: see the module docstring)."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    title = ""
    try:
        meta = reader.metadata
        title = " ".join(str(meta.title or "").split()) if meta is not None else ""
    except Exception:  # a damaged info dictionary: the first line will do
        title = ""
    counter = _Counter(limits)
    pages: Pages = []
    for number, page in enumerate(reader.pages, 1):
        counter.page(number)
        text = page.extract_text(visitor_text=counter.visit) or ""
        counter.count(len(text) - counter.on_page)  # what the layout added (line breaks)
        pages.append((number, text))
    return title, pages


class _Counter:
    """Counts the characters of a PDF's text as pypdf produces them; raises past the limits."""

    def __init__(self, limits: PdfLimits) -> None:
        self.limits = limits
        self.number = 0
        self.on_page = 0
        self.total = 0

    def page(self, number: int) -> None:
        self.number, self.on_page = number, 0

    def visit(self, text: Any, *_: Any) -> None:
        self.count(len(text) if isinstance(text, str) else 0)

    def count(self, n: int) -> None:
        if n <= 0:
            return
        self.on_page += n
        self.total += n
        page_max, doc_max = self.limits.page_chars, self.limits.chars
        if page_max is not None and self.on_page > page_max:
            raise PdfTooLargeError(
                f"page {self.number} gives over {page_max:,} characters of text "
                "(security.max_pdf_page_chars)"
            )
        if doc_max is not None and self.total > doc_max:
            raise PdfTooLargeError(
                f"over {doc_max:,} characters of text by page {self.number} "
                "(security.max_pdf_chars)"
            )


def _in_child(
    path: Path, limits: PdfLimits, seconds: float, fd: int | None = None
) -> tuple[str, Pages]:
    """`extract` in a child process, killed after `seconds` (see the module docstring); `fd`
    (`path` is then /dev/fd/N) is handed to the child."""
    target = str(path) if fd is not None else str(path.resolve())
    command = [sys.executable, "-I", str(Path(__file__).resolve()), target]
    try:
        done = subprocess.run(
            command,
            pass_fds=() if fd is None else (fd,),
            input=json.dumps(asdict(limits)),
            capture_output=True,
            text=True,
            timeout=seconds,  # subprocess.run kills the child when it runs out
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfTimeoutError(
            f"reading the PDF took over {seconds:g} s (security.pdf_time_limit_s)"
        ) from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:  # killed (its CPU limit, memory) or crashed before it could answer
        tail = " ".join(done.stderr.split())[-200:]
        raise ValueError(
            f"the PDF reader stopped (exit code {done.returncode}) before it was done: {tail}"
        ) from None
    if not answer.get("ok"):
        raise _error(str(answer.get("type", "")), str(answer.get("message", "")))
    return str(answer["title"]), [(int(n), str(t)) for n, t in answer["pages"]]


def _error(name: str, message: str) -> Exception:
    """The child's error again, as its own type when that is pypdf's or this module's, so the
    report names it as an in-process read would ("PdfReadError: …")."""
    module, _, cls = name.rpartition(".")
    if module == "__main__":
        module = __name__
    if module.split(".")[0] in ("pypdf", "builtins") or module == __name__:
        try:
            found = getattr(importlib.import_module(module), cls)
            if isinstance(found, type) and issubclass(found, Exception):
                return found(message)
        except (ImportError, AttributeError, TypeError):
            pass
    return ValueError(f"{cls or 'error'}: {message}")


def _child_main(path: str) -> None:
    """In the child: limits from stdin, the answer as one JSON object on stdout."""
    import resource

    limits = PdfLimits(**json.loads(sys.stdin.read()))
    if limits.seconds is not None:  # the kernel's bound too, should the parent be gone
        cpu = math.ceil(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        title, pages = extract(Path(path), limits)
        answer: dict[str, Any] = {"ok": True, "title": title, "pages": pages}
    except Exception as e:  # the reader's own error, its type kept for the report
        kind = type(e)
        answer = {"ok": False, "type": f"{kind.__module__}.{kind.__qualname__}", "message": str(e)}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    _child_main(sys.argv[1])
