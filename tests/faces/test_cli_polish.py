"""The CLI's help and errors read as prose: no `<bool>` / `<str>` type tags, and a mistyped
collection is "the collection", not the API's "collection (model)" (issue 25)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

COMMANDS = [[], ["ask"], ["index"], ["retrieve"], ["chat"], ["status"], ["eval"], ["serve"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "rag")
def test_help_has_no_type_tags(command: list[str]) -> None:
    shown = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert shown.exit_code == 0, shown.output
    assert "Show this message and exit." in shown.output
    assert not re.search(r"<(bool|str|int|float|Path|path)>", shown.output), shown.output


def test_mistyped_collection_says_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_STATE_DB", str(tmp_path / "state.sqlite3"))
    got = CliRunner().invoke(app, ["status", "-c", "nosuch"], env={"COLUMNS": "200"})
    assert got.exit_code == 1
    text = " ".join(got.output.split())
    assert "The collection 'nosuch' does not exist" in text, text
    assert "(model)" not in text
