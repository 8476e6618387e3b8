"""Named collections and their grants, in the core: settings, the pool, the access decision,
conversations and the CLI. Real Chroma, real MiniLM, the real local LLM where one is opened.

The faces (a real `rag serve`, `rag slack` and `rag ui` with tokens and users granted different
collections) are in tests/faces/test_collections_faces.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import VENV_BIN
from two_collections import BETA, DEFAULT, HERON_Q, ZORBLAX_Q, Built, build, leaks

from rag.core.errors import CollectionNotFoundError, PathNotFoundError, RagError
from rag.core.settings import PROJECT_DIR, CollectionSettings, Settings
from rag.service.access import Access, Principal
from rag.service.collections import Collections, list_collections
from rag.state.conversations import Conversations
from rag.storage.lexical import LexicalVersions
from rag.storage.manifest import manifest_path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("collections"))


@pytest.fixture(scope="module")
def pool(built: Built) -> Iterator[Collections]:
    p = Collections(built.settings, warm=False)
    yield p


# -- settings ------------------------------------------------------------------------------------


def test_default_collection_is_unchanged(tmp_path: Path) -> None:
    s = Settings(index_dir=tmp_path)
    assert s.collection == s.default_name == "papers"
    assert s.for_collection(None) is s
    assert s.for_collection("papers") is s


def test_each_collection_has_its_own_files(tmp_path: Path) -> None:
    s = Settings(index_dir=tmp_path, uploads_dir=tmp_path / "up")
    b = s.for_collection("beta")
    assert (b.collection, b.default_name) == ("beta", "papers")
    assert manifest_path(b) != manifest_path(s) and "beta" in manifest_path(b).name
    assert b.uploads_dir == tmp_path / "up-beta" and s.uploads_dir == tmp_path / "up"
    assert b.index_roots() != s.index_roots()
    # Aimed at beta, "the default" and a third collection start from the default's settings.
    assert b.for_collection(None).collection == "papers"
    assert b.for_collection("gamma").uploads_dir == tmp_path / "up-gamma"


def test_collection_overrides_apply_to_that_collection_only(tmp_path: Path) -> None:
    s = Settings(
        index_dir=tmp_path,
        retrieval={"mode": "bm25"},
        collections={"beta": {"corpus_dir": tmp_path / "b", "retrieval": {"top_k": 9}}},
    )
    assert s.for_collection("beta").retrieval.top_k == 9
    assert s.for_collection("beta").retrieval.mode == "bm25"  # not set for beta: inherited
    assert s.for_collection("beta").corpus_dir == tmp_path / "b"
    assert s.retrieval.top_k == 5 and s.corpus_dir != tmp_path / "b"


@pytest.mark.parametrize("bad", ["a", "-x-", "has space", "a..b", "192.168.0.1", "ü" * 4])
def test_invalid_collection_names_are_refused_clearly(bad: str) -> None:
    with pytest.raises(RagError, match="not a valid collection name"):
        Settings().for_collection(bad)


# -- the two collections -------------------------------------------------------------------------


def test_each_collection_retrieves_only_its_own_passages(pool: Collections) -> None:
    a, b = pool.get(None), pool.get(BETA)
    assert a.settings.collection == DEFAULT and b.settings.collection == BETA
    for mode in ("hybrid", "vector", "bm25"):
        from_a = a.retrieve(ZORBLAX_Q, k=5, mode=mode)
        assert not leaks(" ".join(p.text + p.title for p in from_a)), mode
        from_b = b.retrieve(ZORBLAX_Q, k=5, mode=mode)
        assert from_b and from_b[0].title == "Zorblax sparsification", mode


def test_lexical_indexes_and_manifests_are_per_collection(pool: Collections) -> None:
    a, b = pool.get(None), pool.get(BETA)
    va, vb = LexicalVersions(a.settings, a.store), LexicalVersions(b.settings, b.store)
    assert va.folder != vb.folder and va.folder.is_dir() and vb.folder.is_dir()
    assert manifest_path(a.settings).is_file() and manifest_path(b.settings).is_file()
    assert a.status().documents == 1 and b.status().documents == 1


def test_list_collections_with_sizes(built: Built) -> None:
    infos = {i.name: i for i in list_collections(built.settings)}
    assert set(infos) == {DEFAULT, BETA}
    assert infos[DEFAULT].default and not infos[BETA].default
    assert infos[DEFAULT].chunks == 1 and infos[BETA].chunks == 1
    gamma = {"gamma": CollectionSettings(description="G")}
    configured = built.settings.model_copy(update={"collections": gamma})
    assert [i.name for i in list_collections(configured)] == [DEFAULT, BETA, "gamma"]


def test_an_unknown_collection_is_never_created_by_asking(pool: Collections) -> None:
    with pytest.raises(CollectionNotFoundError):
        pool.get("nowhere")
    assert "nowhere" not in pool.names()


def test_a_named_collection_without_a_corpus_needs_paths(tmp_path: Path) -> None:
    from rag.service.assistant import Assistant

    s = Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "nothing")
    a = Assistant(s, collection="delta", build_index=False, progress=False)
    with pytest.raises(PathNotFoundError, match="has no corpus folder"):
        a.index()


@pytest.mark.slow
def test_collections_share_one_llm(pool: Collections) -> None:
    a, b = pool.get(None), pool.get(BETA)
    assert a.answerer.llm is b.answerer.llm
    answer = b.ask(ZORBLAX_Q, restate=False)
    assert "73%" in answer.text and answer.citations[0].title == "Zorblax sparsification"
    other = a.ask(ZORBLAX_Q, restate=False)
    assert not leaks(other.text + " ".join(p.text for p in other.passages))
    assert "31%" in a.ask(HERON_Q, restate=False).text


# -- access --------------------------------------------------------------------------------------


def _access() -> Access:
    return Access(
        Settings(
            api={"token": "user-token"},
            security={"admin_token": "admin-token"},
            access={
                "tokens": [
                    {"name": "a-only", "token": "tok-a", "collections": [DEFAULT]},
                    {"name": "via-group", "token": "tok-g", "groups": ["research"]},
                    {"name": "all", "token": "tok-all", "collections": ["*"]},
                ],
                "users": [{"username": "ann", "password": "pw-ann", "collections": [DEFAULT]}],
                "groups": {"research": [BETA]},
            },
        )
    )


def test_tokens_get_their_grants() -> None:
    access, names = _access(), [DEFAULT, BETA]
    by = access.by_token
    assert access.allowed(by("tok-a"), names) == [DEFAULT]  # type: ignore[arg-type]
    assert access.allowed(by("tok-g"), names) == [BETA]  # type: ignore[arg-type]
    assert access.allowed(by("tok-all"), names) == names  # type: ignore[arg-type]
    # The tokens of before see everything, and own their conversations (in the API namespace).
    assert by("user-token") == Principal("api:api", frozenset({"*"}))
    admin = by("admin-token")
    assert admin is not None and admin.admin and admin.owner == "api:admin"
    assert by("wrong") is None and by("") is None
    assert by("tok-a").owner == "api:token:a-only"  # type: ignore[union-attr]


def test_missing_and_forbidden_collections_get_the_same_error() -> None:
    access, names = _access(), [DEFAULT, BETA]
    a_only = access.by_token("tok-a")
    assert a_only is not None
    assert access.resolve(a_only, None, names) == DEFAULT
    with pytest.raises(CollectionNotFoundError) as forbidden:
        access.resolve(a_only, BETA, names)
    with pytest.raises(CollectionNotFoundError) as missing:
        access.resolve(a_only, "gamma", names)
    assert str(forbidden.value).replace(BETA, "X") == str(missing.value).replace("gamma", "X")


def test_ui_users_and_the_default_login() -> None:
    access, names = _access(), [DEFAULT, BETA]
    assert access.allowed(access.by_user("ann"), names) == [DEFAULT]
    assert access.allowed(access.by_user("ghost"), names) == []
    assert access.allowed(access.by_user(None), names) == names  # no login: as before
    assert access.logins() == {"ann": "pw-ann"}


def test_without_grants_configured_nothing_changes() -> None:
    access = Access(Settings())
    assert not access.tokens_required
    assert access.by_token("") == Principal("api:api", frozenset({"*"}))


def test_conversation_turns_of_a_collection_no_longer_granted_are_hidden(tmp_path: Path) -> None:
    from rag.core.types import Answer
    from rag.state.engine import SQLiteStateDB

    convs = Conversations(SQLiteStateDB(tmp_path / "s.sqlite3"))
    cid = convs.record(None, "me", "q a", Answer(question="q a", text="A"), collection=DEFAULT)
    convs.record(cid, "me", "q b", Answer(question="q b", text="B"), collection=BETA)
    assert len(convs.get(cid, "me").turns) == 2
    kept = convs.get(cid, "me", [DEFAULT]).turns
    assert [t["question"] for t in kept] == ["q a"]
    with pytest.raises(RagError):
        convs.get(cid, "someone else")


# -- the command line ----------------------------------------------------------------------------


def _rag(built: Built, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "rag"), *args],
        env=built.env(),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_cli_lists_collections_and_retrieves_from_the_named_one(built: Built) -> None:
    listed = _rag(built, "collections", "--json")
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    assert [(r["name"], r["chunks"], r["default"]) for r in rows] == [
        (DEFAULT, 1, True),
        (BETA, 1, False),
    ]
    got = _rag(built, "retrieve", "-c", BETA, ZORBLAX_Q, "--json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)[0]["title"] == "Zorblax sparsification"
    bad = _rag(built, "status", "--collection", "x")
    assert bad.returncode == 1 and "not a valid collection name" in bad.stderr
    typo = _rag(built, "retrieve", "-c", "bta", ZORBLAX_Q)
    assert typo.returncode == 1 and "'bta' does not exist" in typo.stderr
    assert "bta" not in _rag(built, "collections").stdout  # asking never creates one


# -- Slack's channel map (the bot as a real process: tests/faces/test_collections_faces.py) --


def test_slack_channels_map_to_collections_and_unmapped_can_be_refused(
    pool: Collections, tmp_path: Path
) -> None:
    from rag.core.settings import SlackSettings
    from rag.slack.handlers import SlackBot
    from rag.state.feedback import FeedbackStore

    feedback = FeedbackStore.from_settings(Settings(state_db=tmp_path / "s.sqlite3"))
    mapped = SlackSettings(channel_collections={"C0B": BETA})
    bot = SlackBot(pool, mapped, feedback)
    assert bot._assistant_for("C0B").settings.collection == BETA
    assert bot._assistant_for("C0OTHER").settings.collection == DEFAULT  # unmapped: default
    strict = SlackBot(pool, mapped.model_copy(update={"unmapped_channels": "refuse"}), feedback)
    message, answer = strict._compose(ZORBLAX_Q, [], channel="C0OTHER")
    assert answer is None and "not mapped to a collection" in json.dumps(message)
    wrong = SlackBot(pool, SlackSettings(channel_collections={"C0X": "nowhere"}), feedback)
    message, answer = wrong._compose(ZORBLAX_Q, [], channel="C0X")
    assert answer is None and "does not exist" in json.dumps(message)
