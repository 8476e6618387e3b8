"""The package's layering (README, Architecture): imports run down, from the faces to the core,
with no circle. Every `rag` import counts, the lazy ones inside functions too."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rag"
# the order a file travels to an answer; a package may import only those of a lower rank
RANK = {"core": 0, "storage": 1, "ingest": 2, "search": 3, "answer": 4, "state": 5, "service": 6}
TOP = 7  # faces (api, ui, slack, cli) and the eval harness


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """module -> the `rag` modules it imports."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    g: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found = next((t for t in targets if t in modules and t != "rag"), None)
            if found is not None and found != name:
                g[name].add(found)
    return g


def _rank(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[1] == "_offline":
        return None
    return RANK.get(parts[1], TOP)


def _edges() -> list[tuple[str, str]]:
    return [(a, b) for a, targets in _graph().items() for b in sorted(targets)]


def test_no_import_circle() -> None:
    try:
        TopologicalSorter(_graph()).prepare()
    except CycleError as e:
        raise AssertionError(f"import circle: {e.args[1]}") from None


def test_imports_run_down_the_layers() -> None:
    upward = [
        (a, b)
        for a, b in _edges()
        if (ra := _rank(a)) is not None and (rb := _rank(b)) is not None and rb > ra
    ]
    assert upward == []


def test_faces_do_not_import_each_other() -> None:
    """A face reaches the core through the service layer; only the CLI, which starts the
    servers (`rag serve`, `rag ui`, `rag slack`, `rag mcp`), names another face, and the API's
    app, which hosts MCP's HTTP transport at /mcp, names the MCP face's transport."""
    faces = ("rag.api", "rag.ui", "rag.slack", "rag.mcp", "rag.cli")
    hosted = {("rag.api.app", "rag.mcp.http")}

    def face(m: str) -> str | None:
        return next((f for f in faces if m == f or m.startswith(f + ".")), None)

    crossing = [
        (a, b)
        for a, b in _edges()
        if face(a) and face(b) and face(a) not in (face(b), "rag.cli") and (a, b) not in hosted
    ]
    assert crossing == []
