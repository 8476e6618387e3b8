"""The state database (rag/state/engine.py) and its repositories (claims, answers, logins,
feedback, conversations) on both backends, with the same tests: SQLite (a file) and PostgreSQL
(a real server, Debian's `postgresql` package, started on 127.0.0.1 for these tests and stopped
after them; `make services` installs it).

- a Slack event is claimed once, across database objects and across processes racing on it;
- answers kept through one database object are read by another, the newest N only;
- UI logins are blocked after too many failures, per user and overall;
- feedback is recorded, listed and exported (FeedbackStore over a `StateDB`);
- conversations: create, list newest first, get, replace, rename, delete; one owner cannot
  read, replace, rename or delete another's (NotFoundError, or a StateError for a save);
- PostgreSQL unreachable or refusing the password: a one-line StateError naming the URL, never
  the password.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import free_port

from rag.core.errors import NotFoundError, StateError
from rag.core.settings import PROJECT_DIR, Settings
from rag.core.types import Answer, Citation
from rag.state.answers import Answers
from rag.state.claims import Claims
from rag.state.conversations import Conversations
from rag.state.engine import SQLiteStateDB, StateDB, open_state
from rag.state.feedback import FeedbackStore
from rag.state.logins import GLOBAL_LOGIN_FACTOR, LoginFailures
from rag.state.quotas import TokenUse

PG_PASSWORD = "pg-s3cret-Zq9"  # must never appear in a message


# -- a real PostgreSQL on 127.0.0.1 --------------------------------------------------------------


def _pg_bindir() -> Path | None:
    """The newest installed server's programs (/usr/lib/postgresql/<major>/bin), if any."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


@dataclass
class PostgresServer:
    port: int
    folder: Path
    started_in_s: float
    databases: int = 0

    def url(self, database: str, password: str = PG_PASSWORD) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database (one per test); its URL."""
        import psycopg

        self.databases += 1
        name = f"rag_test_{self.databases}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # the name is ours, not user input
        return self.url(name)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """initdb into a temporary folder, `pg_ctl start` on a free port of 127.0.0.1 (password
    login over TCP), then `pg_ctl stop -m fast`. As root, the server runs as the `postgres`
    user (it refuses root), in a folder that user owns."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's server is not installed: `make services` installs it")
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="rag-pg-"))  # not under pytest's root-only tmp
    as_server_user: list[str] = []
    if os.geteuid() == 0:
        as_server_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres", "postgres")
    data, log, pwfile = folder / "data", folder / "server.log", folder / "pw"
    pwfile.write_text(PG_PASSWORD)
    if as_server_user:
        shutil.chown(pwfile, "postgres", "postgres")

    def run(*cmd: str) -> None:
        done = subprocess.run(
            [*as_server_user, *cmd], capture_output=True, text=True, timeout=120, cwd=folder
        )
        assert done.returncode == 0, f"{cmd[0]}: {done.stdout}\n{done.stderr}"

    port, running = free_port(), False
    try:
        run(
            str(bindir / "initdb"),
            *("-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync"),
            *("--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"),
        )
        options = f"-k {folder} -p {port} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off"
        pg_ctl = str(bindir / "pg_ctl")
        run(pg_ctl, "start", "-w", *("-t", "60", "-D", str(data), "-l", str(log), "-o", options))
        running = True
        server = PostgresServer(port, folder, started_in_s=time.monotonic() - started)
        print(f"\nPostgreSQL {bindir.parent.name} on 127.0.0.1:{port}: {server.started_in_s:.1f}s")
        yield server
    finally:
        if running:
            run(pg_ctl, "stop", "-m", "fast", "-w", "-D", str(data))
        shutil.rmtree(folder, ignore_errors=True)


# -- the two backends ----------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    settings: Settings  # state_db, and state_url for PostgreSQL
    opened: list[StateDB]

    def open(self) -> StateDB:
        """A new database object on the same database (as another process would open it)."""
        url = self.settings.state_url
        db = (
            SQLiteStateDB(self.settings.state_db)
            if url is None
            else StateDB(url.get_secret_value())
        )
        self.opened.append(db)
        return db

    def claims(self) -> Claims:
        return Claims(self.open())

    def answers(self, max_answers: int = 10_000) -> Answers:
        return Answers(self.open(), max_answers)

    def logins(self, max_rows: int = 10_000) -> LoginFailures:
        return LoginFailures(self.open(), max_rows)

    def conversations(self) -> Conversations:
        return Conversations(self.open())


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    state_db = tmp_path / "state.sqlite3"
    if request.param == "sqlite":
        settings = Settings(state_db=state_db)
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        settings = Settings(state_db=state_db, state_url=server.new_database())
    b = Backend(request.param, settings, [])
    yield b
    for db in b.opened:
        db.close()


def _answer(text: str = "ZipCache cuts latency by 37.3% [1].", abstained: bool = False) -> Answer:
    cite = Citation(number=1, title="ZipCache", source="corpus/a.txt", snippet="37.3%", score=0.5)
    return Answer(
        question="q?", text=text, citations=[] if abstained else [cite], abstained=abstained
    )


def test_open_state_picks_the_backend(backend: Backend) -> None:
    store = open_state(backend.settings)
    assert isinstance(store, StateDB)
    assert store.dialect == backend.name
    if backend.name == "sqlite":
        assert isinstance(store, SQLiteStateDB) and store.path == backend.settings.state_db
    else:
        assert PG_PASSWORD not in store.describe() and "127.0.0.1" in store.describe()
        assert not backend.settings.state_db.exists()  # the SQLite file is not touched
    store.close()


# -- claims --------------------------------------------------------------------------------------


def test_a_key_is_claimed_once_across_database_objects(backend: Backend) -> None:
    a, b = backend.claims(), backend.claims()
    assert a.claim("slack-event", "Ev1", 60)
    assert not b.claim("slack-event", "Ev1", 60)
    assert not a.claim("slack-event", "Ev1", 60)
    assert b.claim("slack-message", "Ev1", 60)  # namespaces are apart
    assert b.claim("slack-event", "Ev2", 60)
    # A key claimed for a short while can be claimed again once it has expired, once.
    assert a.claim("ns", "k", 0.3) and not b.claim("ns", "k", 0.3)
    time.sleep(0.4)
    assert b.claim("ns", "k", 60) and not a.claim("ns", "k", 60)


def test_threads_racing_on_keys_claim_each_once(backend: Backend) -> None:
    stores = [backend.claims(), backend.claims()]
    keys = [f"Ev{i}" for i in range(40)]
    claimed: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(6)

    def worker(n: int) -> None:
        store = stores[n % 2]
        go.wait()
        for k in keys:
            if store.claim("slack-event", k, 3600):
                with lock:
                    claimed.append(k)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(claimed) == sorted(keys)


_CLAIM_RACE = """
    import sys, time
    from pathlib import Path
    from rag.core.settings import Settings
    from rag.state.claims import Claims
    from rag.state.engine import open_state
    state_db, state_url, go, *keys = sys.argv[1:]
    store = Claims(open_state(Settings(state_db=Path(state_db), state_url=state_url or None)))
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.01)
    print(" ".join(k for k in keys if store.claim("slack-event", k, 3600)), flush=True)
"""


def test_processes_racing_on_keys_claim_each_once(backend: Backend, tmp_path: Path) -> None:
    """Three processes open the (new, empty) database at once, wait for one signal, then claim
    the same 40 keys: every key is claimed by exactly one of them."""
    url = backend.settings.state_url.get_secret_value() if backend.settings.state_url else ""
    go = tmp_path / "go"
    keys = [f"Ev{i}" for i in range(40)]
    cmd = [sys.executable, "-c", textwrap.dedent(_CLAIM_RACE)]
    args = [str(backend.settings.state_db), url, str(go), *keys]
    procs = [
        subprocess.Popen(
            [*cmd, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_DIR,
        )
        for _ in range(3)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.strip() == "ready", p.communicate(timeout=60)[1]
        go.touch()
        claimed: list[str] = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            claimed += out.split()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert sorted(claimed) == sorted(keys)


# -- answers -------------------------------------------------------------------------------------


def test_answers_are_read_by_a_new_database_object_and_bounded(backend: Backend) -> None:
    key = backend.answers().put(_answer())
    assert backend.answers().get(key) == _answer()
    assert backend.answers().get("no-such-key") is None
    small = backend.answers(max_answers=3)
    keys = [small.put(_answer(f"answer {i} [1].")) for i in range(5)]
    kept = [small.get(k) for k in keys]
    assert [a is not None for a in kept] == [False, False, True, True, True]
    assert kept[-1] is not None and kept[-1].text == "answer 4 [1]."


# -- LLM tokens per day (quotas) -----------------------------------------------------------------


def test_token_use_adds_atomically_per_owner_and_day(backend: Backend) -> None:
    """Threads on two database objects (two replicas) add at once: no addition is lost."""
    first, second = TokenUse(backend.open()), TokenUse(backend.open())

    def add(use: TokenUse) -> None:
        for _ in range(20):
            use.add("api:token:ci", 5)

    threads = [threading.Thread(target=add, args=(u,)) for u in (first, second, first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert second.used("api:token:ci") == 400
    assert first.used("ui:ann") == 0
    assert first.add("api:token:ci", 7, day="2001-01-01") == 7  # another day, its own count
    first.add("ui:ann", 1)  # today's write trims days older than keep_days
    assert first.used("api:token:ci", day="2001-01-01") == 0
    assert first.used("api:token:ci") == 400


# -- logins --------------------------------------------------------------------------------------


def test_logins_are_blocked_after_failures_and_cleared_by_success(backend: Backend) -> None:
    a, b = backend.logins(), backend.logins()
    for _ in range(3):
        assert not b.blocked("ada", 3, 60)
        a.record("ada")
    assert b.blocked("ada", 3, 60)  # seen by another database object
    assert not b.blocked("bob", 3, 60)  # per user
    assert not b.blocked("ada", 3, 0.0)  # outside the window
    b.clear("ada")
    assert not a.blocked("ada", 3, 60)
    long_name = "x" * 10_000  # stored as a bounded prefix, still counted for that user
    a.record(long_name)
    assert b.blocked(long_name, 1, 60) and not b.blocked("ada", 1, 60)


def test_many_usernames_together_are_limited(backend: Backend) -> None:
    logins = backend.logins()
    for i in range(2 * GLOBAL_LOGIN_FACTOR):
        logins.record(f"user{i}")
    assert logins.blocked("ada", 2, 60)
    bounded = backend.logins(max_rows=5)
    for _ in range(20):
        bounded.record("eve")
    assert not bounded.blocked("eve", 6, 60) and bounded.blocked("eve", 5, 60)


# -- feedback ------------------------------------------------------------------------------------


def test_feedback_is_recorded_listed_and_exported(backend: Backend, tmp_path: Path) -> None:
    fb = FeedbackStore.from_settings(backend.settings)
    assert isinstance(fb.store, StateDB) and fb.store.dialect == backend.name
    backend.opened.append(fb.store)
    first = fb.record(_answer(), rating=1, channel="ui", user="ada")
    second = fb.record(_answer("Not in the collection.", abstained=True), 1, "slack")
    third = fb.record(_answer(), rating=-1, channel="api", comment="wrong figure")
    assert first < second < third
    with pytest.raises(ValueError):
        fb.record(_answer(), rating=0, channel="ui")

    rows = FeedbackStore(backend.settings.state_db, store=backend.open()).rows()  # another object
    assert [r["id"] for r in rows] == [first, second, third]
    assert list(rows[0]) == [
        "id",
        "created",
        "channel",
        "rating",
        "question",
        "answer",
        "abstained",
        "citations",
        "user",
        "comment",
    ]
    assert rows[0]["citations"][0]["title"] == "ZipCache" and rows[0]["user"] == "ada"
    assert rows[1]["abstained"] is True and rows[0]["abstained"] is False
    assert rows[2]["rating"] == -1 and rows[2]["comment"] == "wrong figure"

    out = tmp_path / "eval" / "feedback.jsonl"
    assert fb.export_eval(out) == 3
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert [i["type"] for i in items] == ["identify", "unanswerable", "identify"]
    assert items[0]["gold_titles"] == ["ZipCache"] and "needs_review" not in items[0]
    assert items[2]["gold_titles"] == [] and items[2]["needs_review"] is True


def test_feedback_store_from_a_path_shares_the_sqlite_file(tmp_path: Path) -> None:
    """`FeedbackStore(path)` (callers and tests that have only a path) is the SQLite backend."""
    path = tmp_path / "state.sqlite3"
    FeedbackStore(path).record(_answer(), rating=1, channel="ui")
    assert len(FeedbackStore.from_settings(Settings(state_db=path)).rows()) == 1
    assert FeedbackStore("", store=SQLiteStateDB(path)).rows()[0]["channel"] == "ui"


# -- conversations -------------------------------------------------------------------------------


def _turns(n: int) -> list[dict[str, object]]:
    return [
        {"question": f"question {i}", "answer": _answer().model_dump(mode="json")} for i in range(n)
    ]


def test_conversations_crud(backend: Backend) -> None:
    convs = backend.conversations()
    assert convs.list("ada") == []
    first = convs.save(None, "ada", "KV caches", _turns(1))
    time.sleep(0.01)
    second = convs.save(None, "ada", "Pruning ✂", _turns(2))
    assert first != second
    listed = convs.list("ada")
    assert [c.id for c in listed] == [second, first]  # newest first
    assert listed[0].title == "Pruning ✂" and listed[0].created <= listed[0].updated

    other = backend.conversations()  # another database object (another replica) reads the same
    conv = other.find(first, "ada")
    assert conv is not None and conv.owner == "ada" and conv.title == "KV caches"
    assert conv.turns == _turns(1)
    assert Answer.model_validate(conv.turns[0]["answer"]) == _answer()

    time.sleep(0.01)
    assert other.save(first, "ada", "KV caches", _turns(3)) == first  # replace
    replaced = convs.find(first, "ada")
    assert replaced is not None and len(replaced.turns) == 3
    assert replaced.created == conv.created and replaced.updated > conv.updated
    assert [c.id for c in convs.list("ada")] == [first, second]

    convs.rename(second, "ada", "Pruning, renamed")
    renamed = convs.find(second, "ada")
    assert renamed is not None and renamed.title == "Pruning, renamed"
    with pytest.raises(NotFoundError):
        convs.rename("no-such-id", "ada", "x")

    assert convs.save("chosen-id", "ada", "Given id", []) == "chosen-id"
    convs.delete(first, "ada")
    with pytest.raises(NotFoundError):
        convs.delete(first, "ada")  # already gone
    assert convs.find(first, "ada") is None
    assert {c.id for c in convs.list("ada")} == {second, "chosen-id"}


def test_one_owner_cannot_touch_anothers_conversations(backend: Backend) -> None:
    convs = backend.conversations()
    conv_id = convs.save(None, "ada", "Ada's", _turns(1))
    assert convs.list("bob") == []
    assert convs.find(conv_id, "bob") is None
    with pytest.raises(NotFoundError):
        convs.rename(conv_id, "bob", "mine now")
    with pytest.raises(NotFoundError):
        convs.delete(conv_id, "bob")
    with pytest.raises(StateError) as e:
        convs.save(conv_id, "bob", "mine now", [])  # replace by id: refused
    assert "\n" not in str(e.value)
    kept = convs.find(conv_id, "ada")
    assert kept is not None and kept.title == "Ada's" and kept.turns == _turns(1)
    assert [c.id for c in convs.list("ada")] == [conv_id]


# -- errors --------------------------------------------------------------------------------------


def _assert_one_line_without_password(e: pytest.ExceptionInfo[StateError], port: int) -> str:
    message = str(e.value)
    assert "\n" not in message and PG_PASSWORD not in message
    assert f"127.0.0.1:{port}" in message and "RAG_STATE_URL" in message
    assert e.value.__cause__ is None and e.value.__suppress_context__
    return message


def test_unreachable_postgresql_is_a_one_line_error_without_the_password() -> None:
    closed = free_port()
    url = f"postgresql://rag:{PG_PASSWORD}@127.0.0.1:{closed}/rag"
    started = time.monotonic()
    with pytest.raises(StateError) as e:
        open_state(Settings(state_url=url))
    message = _assert_one_line_without_password(e, closed)
    assert "refused" in message.lower()
    assert time.monotonic() - started < 15


def test_wrong_postgresql_password_is_a_one_line_error_without_it(
    postgres: PostgresServer,
) -> None:
    wrong = "not-the-" + PG_PASSWORD
    with pytest.raises(StateError) as e:
        StateDB(postgres.url("postgres", password=wrong))
    message = _assert_one_line_without_password(e, postgres.port)
    assert wrong not in message and "password authentication failed" in message


@pytest.mark.parametrize(
    "url",
    ["mysql://u:pw-XYZ@127.0.0.1/db", "not a url pw-XYZ", "postgresql+psycopg2://u:pw-XYZ@h/d"],
)
def test_unusable_state_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(StateError) as e:
        open_state(Settings(state_url=url))
    assert "pw-XYZ" not in str(e.value) and "postgresql://" in str(e.value)


def test_postgresql_server_started_quickly(postgres: PostgresServer) -> None:
    """The fixture's cost (initdb + start), for the record; generous on a loaded 2-core box."""
    assert postgres.started_in_s < 60
