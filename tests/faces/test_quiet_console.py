"""The console of `rag ui` and `rag serve` at start-up, as real processes on 127.0.0.1 over a
tiny real index (tests/support/two_collections.py): one ready line per service ("model ready",
"UI on http://…", "API on http://…"), no health-poll lines ("503 Service Unavailable"), no
"[None None]" request fields outside a request, no Gradio share hint, no progress bars."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from servers import VENV_BIN, Launch, free_port, running_together
from two_collections import build

pytestmark = pytest.mark.slow

LOGS = Path(__file__).resolve().parents[1] / "artifacts"
# '" 503': a 503 status in an access line ('"GET /health HTTP/1.1" 503'); a bare "503" also
# matched a client's port by chance ("127.0.0.1:45034")
NOISE = ('" 503', "None None", "share=True", "public link", "Running on local URL", "%|")


def _console_once_ready(path: Path, timeout: float = 180.0) -> str:
    """The console so far, once the model says it is ready (or the time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if "model ready" in text:
            time.sleep(1.0)  # anything printed right after it
            return path.read_text(errors="replace")
        time.sleep(0.5)
    return path.read_text(errors="replace")


def test_start_up_console_is_one_line_per_service(tmp_path: Path) -> None:
    built = build(tmp_path / "quiet")
    ui_port, api_port = free_port(), free_port()
    LOGS.mkdir(exist_ok=True)
    ui_log, api_log = LOGS / "quiet_ui.log", LOGS / "quiet_serve.log"
    ui_env = built.env(RAG_UI__HOST="127.0.0.1", RAG_UI__PORT=str(ui_port))
    api_env = built.env(RAG_API__HOST="127.0.0.1", RAG_API__PORT=str(api_port))
    ui_url, api_url = f"http://127.0.0.1:{ui_port}", f"http://127.0.0.1:{api_port}"
    launches = [
        Launch([str(VENV_BIN / "rag"), "ui"], f"{ui_url}/config", ui_log, ui_env),
        Launch([str(VENV_BIN / "rag"), "serve"], f"{api_url}/health", api_log, api_env),
    ]
    with running_together(launches, timeout=300):
        ui, api = _console_once_ready(ui_log), _console_once_ready(api_log)
    for console, ready in ((ui, f"UI on {ui_url}"), (api, f"API on {api_url}")):
        lines = console.splitlines()
        assert [line for line in lines if line.endswith(ready)] != [], console
        assert len([line for line in lines if ready in line]) == 1, console
        assert len([line for line in lines if "model ready" in line]) == 1, console
        assert [n for n in NOISE if n in console] == [], console
