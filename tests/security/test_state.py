"""State that must outlive a process (rag/state/: engine.py and its repositories), and what it
protects.

- A Slack event handled by one bot process is not handled again by the next one (a restart),
  nor twice by processes racing on the same state file; an answer's buttons survive a restart.
- The UI login refuses even the right password after `login_max_failures` wrong ones, until
  `login_window_s` has passed: through the callable and through Gradio's real `/login` route.
- `rag slack` with Slack unreachable is one line and exit 1, within seconds, not a traceback.
- An unusable state file is a one-line StateError naming the file.

None of these needs the index or the LLM.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import HTTPException
from servers import VENV_BIN, free_port

from rag.core.errors import StateError
from rag.core.settings import PROJECT_DIR, SecuritySettings, Settings, UISettings
from rag.core.types import Answer, Citation
from rag.state.answers import Answers
from rag.state.claims import Claims
from rag.state.engine import SQLiteStateDB
from rag.state.feedback import FeedbackStore
from rag.state.logins import GLOBAL_LOGIN_FACTOR

PASSWORD = "s3cret-pass-é"  # non-ASCII on purpose: compared as bytes


def _python(code: str, *args: str) -> str:
    """Run `code` in a fresh interpreter (another process, as after a restart); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_DIR,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# -- Slack: events and answers across restarts ---------------------------------------------------

_HANDLE_EVENT = """
    import sys
    from slack_bolt import BoltRequest
    from rag.state.feedback import FeedbackStore
    from rag.core.settings import SlackSettings
    from rag.slack.handlers import SlackBot

    bot = SlackBot(object(), SlackSettings(), FeedbackStore(sys.argv[1]))
    for event_id in sys.argv[2:]:
        handled = []
        request = BoltRequest(body="{}", headers={"x-slack-retry-num": "1"})
        bot.drop_duplicate_events({"event_id": event_id}, request, lambda: handled.append(1))
        print(event_id, "handled" if handled else "dropped")
"""


def test_slack_event_is_not_handled_again_after_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    first = _python(_HANDLE_EVENT, db, "Ev1", "Ev1")
    assert first.splitlines() == ["Ev1 handled", "Ev1 dropped"]
    # The bot restarts: Slack's retry of Ev1 is dropped, a new event is handled.
    second = _python(_HANDLE_EVENT, db, "Ev1", "Ev2")
    assert second.splitlines() == ["Ev1 dropped", "Ev2 handled"]


def test_processes_racing_on_one_event_handle_it_once(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    SQLiteStateDB(db).close()  # the file exists before the race
    code = """
        import sys
        from rag.state.claims import Claims
        from rag.state.engine import SQLiteStateDB
        claims = Claims(SQLiteStateDB(sys.argv[1]))
        print(" ".join(k for k in sys.argv[2:] if claims.claim("slack-event", k, 3600)))
    """
    keys = [f"Ev{i}" for i in range(30)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), str(db), *keys],
            stdout=subprocess.PIPE,
            text=True,
            cwd=PROJECT_DIR,
        )
        for _ in range(3)
    ]
    claimed = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        claimed += out.split()
    assert sorted(claimed) == sorted(keys)  # every key once, by exactly one process


def _answer() -> Answer:
    cite = Citation(number=1, title="ZipCache", source="corpus/a.txt", snippet="37.3%", score=0.5)
    return Answer(question="q?", text="ZipCache cuts latency by 37.3% [1].", citations=[cite])


def test_answer_kept_before_a_restart_is_there_after(tmp_path: Path) -> None:
    from rag.slack.state import AnswerCache

    db = tmp_path / "state.sqlite3"
    code = """
        import sys
        from rag.slack.state import AnswerCache
        from rag.state.engine import SQLiteStateDB
        from rag.core.types import Answer
        answer = Answer.model_validate_json(sys.argv[2])
        print(AnswerCache(SQLiteStateDB(sys.argv[1])).put(answer))
    """
    key = _python(code, str(db), _answer().model_dump_json())
    assert AnswerCache(SQLiteStateDB(db)).get(key) == _answer()


def test_seen_keys_expire_and_answers_are_bounded(tmp_path: Path) -> None:
    db = SQLiteStateDB(tmp_path / "state.sqlite3")
    claims, answers = Claims(db), Answers(db, max_answers=3)
    assert claims.claim("ns", "k", 0.3) and not claims.claim("ns", "k", 0.3)
    time.sleep(0.4)
    assert claims.claim("ns", "k", 0.3)
    keys = [answers.put(_answer()) for _ in range(5)]
    assert [answers.get(k) is not None for k in keys] == [False, False, True, True, True]


# -- an unusable state file ----------------------------------------------------------------------


def _assert_one_line_state_error(path: Path) -> None:
    with pytest.raises(StateError) as e:
        SQLiteStateDB(path)
    message = str(e.value)
    assert str(path) in message and "\n" not in message
    assert "RAG_STATE_DB" in message
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_state_file_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    _assert_one_line_state_error(tmp_path / "file" / "state.sqlite3")


def test_damaged_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database, " * 100)
    _assert_one_line_state_error(path)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_state_file_in_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        _assert_one_line_state_error(folder / "state.sqlite3")
    finally:
        folder.chmod(0o700)


def test_feedback_and_state_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    claims = Claims(SQLiteStateDB(path))
    feedback = FeedbackStore(path)
    feedback.record(_answer(), rating=1, channel="ui")
    assert claims.claim("ns", "k", 60)
    assert len(feedback.rows()) == 1


# -- the UI login ------------------------------------------------------------------------------


def _login_settings(tmp_path: Path, max_failures: int = 3, window_s: float = 1.0) -> Settings:
    return Settings(
        state_db=tmp_path / "state.sqlite3",
        ui=UISettings(host="127.0.0.1", port=free_port(), username="ada", password=PASSWORD),
        security=SecuritySettings(login_max_failures=max_failures, login_window_s=window_s),
    )


def _auth(settings: Settings) -> Any:
    from rag.ui.app import launch_kwargs

    return launch_kwargs(settings)["auth"]


def _login(auth: Any, username: str, password: str) -> str:
    """What Gradio's /login makes of one attempt: "ok", "wrong" or "blocked"."""
    try:
        return "ok" if asyncio.run(auth(username, password)) else "wrong"
    except HTTPException as e:
        assert e.status_code == 400 and "Too many failed logins" in str(e.detail)
        return "blocked"


def test_login_refuses_the_right_password_after_too_many_wrong_ones(tmp_path: Path) -> None:
    settings = _login_settings(tmp_path, max_failures=3, window_s=1.0)
    auth = _auth(settings)
    assert _login(auth, "ada", PASSWORD) == "ok"
    assert [_login(auth, "ada", f"guess{i}") for i in range(3)] == ["wrong"] * 3
    assert _login(auth, "ada", PASSWORD) == "blocked"
    assert _login(_auth(settings), "ada", PASSWORD) == "blocked"  # a restart does not reset it
    assert _login(auth, "bob", "guess") == "wrong"  # other usernames have their own count
    time.sleep(1.1)
    assert _login(auth, "ada", PASSWORD) == "ok"  # the window has passed


def test_a_successful_login_clears_the_failures(tmp_path: Path) -> None:
    auth = _auth(_login_settings(tmp_path, max_failures=3, window_s=60))
    for _ in range(3):
        assert [_login(auth, "ada", "guess") for _ in range(2)] == ["wrong"] * 2
        assert _login(auth, "ada", PASSWORD) == "ok"


def test_guessing_many_usernames_is_limited_too(tmp_path: Path) -> None:
    auth = _auth(_login_settings(tmp_path, max_failures=2, window_s=60))
    for i in range(2 * GLOBAL_LOGIN_FACTOR):
        assert _login(auth, f"user{i}", "guess") == "wrong"  # one guess per username
    assert _login(auth, "ada", PASSWORD) == "blocked"


def test_login_over_http_is_refused_while_blocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gradio's own /login route, on a real server, with the launch options `rag ui` uses."""
    import gradio as gr

    from rag.ui.app import launch_kwargs

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    settings = _login_settings(tmp_path, max_failures=3, window_s=2.0)
    with gr.Blocks(analytics_enabled=False) as demo:
        gr.Markdown("behind the login")
    demo.launch(prevent_thread_lock=True, **launch_kwargs(settings))  # quiet among them
    url = f"http://127.0.0.1:{settings.ui.port}"
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/config").status_code in (401, 403)
            for i in range(3):
                wrong = http.post("/login", data={"username": "ada", "password": f"guess{i}"})
                assert wrong.status_code == 400 and wrong.json()["detail"] == (
                    "Incorrect credentials."
                )
            right = {"username": "ada", "password": PASSWORD}
            refused = http.post("/login", data=right)
            assert refused.status_code == 400
            assert "Too many failed logins" in refused.json()["detail"]
            assert http.get("/config").status_code in (401, 403)  # no session cookie was set
            time.sleep(2.1)
            accepted = http.post("/login", data=right)
            assert accepted.status_code == 200 and accepted.json() == {"success": True}
            assert http.get("/config").status_code == 200
    finally:
        demo.close()


# -- rag slack with Slack unreachable ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_rag_slack_with_slack_unreachable_is_one_line(tmp_path: Path, mode: str) -> None:
    closed = free_port()
    env = {
        **os.environ,
        "RAG_SLACK__BOT_TOKEN": "xoxb-test",
        "RAG_SLACK__APP_TOKEN": "xapp-test",
        "RAG_SLACK__MODE": mode,
        "RAG_SLACK__SIGNING_SECRET": "x",
        "RAG_SLACK__API_BASE_URL": f"http://127.0.0.1:{closed}/api/",
        "RAG_STATE_DB": str(tmp_path / "state.sqlite3"),
        "RAG_INDEX_DIR": str(tmp_path / "index"),  # empty: building it would take minutes
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "250",  # the CLI's console would wrap the line at 80 columns in a pipe
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(VENV_BIN / "rag"), "slack"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Cannot reach Slack" in lines[0] and f"127.0.0.1:{closed}" in lines[0]
    assert "xoxb-test" not in done.stderr
    assert time.monotonic() - started < 60  # Slack is checked before any model loads
