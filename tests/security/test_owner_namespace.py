"""Issue 23, row 5: owners are namespaced by face. A UI user named like an API token's identity
("admin", "api", "token:ci") lists, opens and renames none of that token's conversations, and the
other way round; a conversation asked of a collection the user may not use is not opened or
renamed; conversations saved before the namespaces keep their owner. The real API app (FastAPI's
TestClient), the real UI controller and the real state store (SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag.api import create_app
from rag.core.errors import NotFoundError
from rag.core.settings import AccessToken, AccessUser, Settings
from rag.core.types import Answer
from rag.service.access import Access
from rag.service.assistant import Assistant
from rag.state.conversations import Conversations
from rag.state.engine import SQLiteStateDB
from rag.ui.app import ChatController, owner_of

ADMIN = "admin-token-owner-0123456789"
CI = "ci-token-owner-0123456789"
USER = "user-token-owner-0123456789"
NAMES = ("admin", "api", "token:ci")  # what the API called its tokens' owners before


def _settings(tmp_path: Path) -> Settings:
    users = [
        AccessUser(username=n, password=SecretStr("pw-0123456789"), collections=["*"])
        for n in NAMES
    ]
    users.append(
        AccessUser(username="ann", password=SecretStr("pw-0123456789"), collections=["papers"])
    )
    return Settings(
        state_db=tmp_path / "state.sqlite3",
        corpus_dir=tmp_path / "corpus",  # nothing to index: the faces, not the answers
        index_dir=tmp_path / "index",
        uploads_dir=tmp_path / "uploads",
        api={"token": SecretStr(USER)},  # type: ignore[arg-type]
        security={"admin_token": SecretStr(ADMIN)},  # type: ignore[arg-type]
        access={  # type: ignore[arg-type]
            "tokens": [AccessToken(name="ci", token=SecretStr(CI), collections=["*"])],
            "users": users,
        },
    )


def _ui(username: str) -> str:
    """The owner the UI gives a logged-in user (Gradio's request carries the username)."""
    return owner_of(SimpleNamespace(username=username))  # type: ignore[arg-type]


def _request(username: str) -> Any:
    return SimpleNamespace(username=username)


@pytest.fixture()
def faces(tmp_path: Path) -> Iterator[tuple[Settings, TestClient, ChatController]]:
    settings = _settings(tmp_path)
    settings.corpus_dir.mkdir()
    assistant = Assistant(settings)
    api = TestClient(create_app(assistant, settings))  # no lifespan: no model to warm up
    yield settings, api, ChatController(assistant, settings)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("token", "ui_name"), [(ADMIN, "admin"), (CI, "token:ci"), (USER, "api")])
def test_a_ui_user_named_like_a_token_sees_none_of_its_conversations(
    faces: tuple[Settings, TestClient, ChatController], token: str, ui_name: str
) -> None:
    settings, api, ui = faces
    who = Access(settings).by_token(token)  # the owner the API gives this token
    assert who is not None
    convs = Conversations(SQLiteStateDB(settings.state_db))
    conv = convs.record(None, who.owner, "Secret plan?", Answer(question="q", text="Yes [1]."))
    listed = api.get("/v1/conversations", headers=_bearer(token)).json()["conversations"]
    assert [c["id"] for c in listed] == [conv]  # it is the API token's conversation

    req = _request(ui_name)
    assert ui.conversation_list(req)["choices"] == []
    chat, _, _, opened, title = ui.open_conversation(conv, req)
    assert opened is None and title == "" and "Secret plan" not in str(chat)
    ui.rename_conversation(conv, "mine now", req)
    got = api.get(f"/v1/conversations/{conv}", headers=_bearer(token)).json()
    assert got["title"] == "Secret plan?"

    # and the other way round: the UI user's conversation is not the token's
    turn = {"question": "My notes?", "answer": Answer(question="My notes?", text="No.")}
    _, mine, _, _ = ui.save_turns([turn], None, req)
    assert mine and mine != conv
    listed = api.get("/v1/conversations", headers=_bearer(token)).json()["conversations"]
    assert [c["id"] for c in listed] == [conv]
    assert api.get(f"/v1/conversations/{mine}", headers=_bearer(token)).status_code == 404
    renamed = api.patch(f"/v1/conversations/{mine}", json={"title": "x"}, headers=_bearer(token))
    assert renamed.status_code == 404
    assert [c.title for c in convs.list(_ui(ui_name))] == ["My notes?"]


def test_a_conversation_of_a_collection_not_granted_is_not_opened_or_renamed(
    faces: tuple[Settings, TestClient, ChatController],
) -> None:
    settings, _, ui = faces
    convs = Conversations(SQLiteStateDB(settings.state_db))
    ann = _ui("ann")  # granted "papers" only
    answer = Answer(question="q", text="A.")
    conv = convs.record(None, ann, "Merger terms?", answer, collection="legal")
    chat, _, _, opened, title = ui.open_conversation(conv, _request("ann"))
    assert opened is None and title == "" and "Merger" not in str(chat)
    ui.rename_conversation(conv, "renamed", _request("ann"))
    assert [c.title for c in convs.list(ann)] == ["Merger terms?"]
    with pytest.raises(NotFoundError):
        convs.get(conv, ann, ["papers"])


def test_conversations_saved_before_the_namespaces_keep_their_owner(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = SQLiteStateDB(settings.state_db)
    convs = Conversations(store)
    for owner in ("admin", "token:ci", "alice", "local"):
        convs.record(None, owner, f"asked by {owner}", Answer(question="q", text="A."))
    store.close()
    # the file as an older version left it: owners without a face, no record of migrations
    with sqlite3.connect(settings.state_db) as db:
        db.execute("DROP TABLE migrations")
        assert {r[0] for r in db.execute("SELECT owner FROM conversations")} == {
            "admin",
            "token:ci",
            "alice",
            "local",
        }
    convs = Conversations(SQLiteStateDB(settings.state_db))  # opened by the new version
    access = Access(settings)
    admin, ci = access.by_token(ADMIN), access.by_token(CI)
    assert admin is not None and ci is not None
    assert [c.title for c in convs.list(admin.owner)] == ["asked by admin"]
    assert [c.title for c in convs.list(ci.owner)] == ["asked by token:ci"]
    assert [c.title for c in convs.list(_ui("alice"))] == ["asked by alice"]
    assert [c.title for c in convs.list(owner_of(None))] == ["asked by local"]
    assert convs.list(_ui("admin")) == []
    # once: a later open leaves the owners it finds alone
    Conversations(SQLiteStateDB(settings.state_db)).save(None, "plain", "saved raw", [])
    assert [c.title for c in Conversations(SQLiteStateDB(settings.state_db)).list("plain")] == [
        "saved raw"
    ]
