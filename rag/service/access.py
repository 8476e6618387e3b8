"""Who may use which collection: API tokens and UI users, each granted collections.

One place decides, for every face: `Access.allowed(principal, names)` is the set of collections a
caller may use, and `Access.resolve(principal, requested, names)` the one it asks for, or
`CollectionNotFoundError`. An unknown collection and one the caller has no grant for get the
same error, word for word, so a caller never learns that a collection it may not use exists.

Grants (`[access]` in the settings):

- `[[access.tokens]]` name, token, collections (`"*"`: all), groups: API bearer tokens. The
  token's name owns its conversations (`api:token:<name>`).
- `[[access.users]]` username, password, collections, groups: UI logins.
- `[access.groups]` group = [collections]: grants shared by several tokens or users.

Owners are namespaced by face (`owner_key`): "api:admin", "api:api", "api:token:<name>",
"ui:<username>", "ui:local"; a UI user called "admin" is "ui:admin" and sees none of the admin
token's conversations. Rows saved before the namespaces are moved once (rag/state/engine.py).

Backward compatible: with none of these configured nothing changes. `api.token` (owner "api"),
`security.admin_token` ("admin", also allowed to index) and the `ui.username` login are granted
every collection, and so is the API without any token and the UI without a login.
"""

from __future__ import annotations

import secrets
from collections.abc import Container, Iterable
from dataclasses import dataclass

from rag.core.errors import CollectionNotFoundError, NotAuthorisedError
from rag.core.settings import Settings

ALL = "*"


@dataclass(frozen=True)
class Principal:
    """A caller: whose conversations it sees (`owner`), the collections it was granted (`"*"`:
    every one) and whether it may index (the admin token)."""

    owner: str
    grants: frozenset[str]
    admin: bool = False

    @property
    def everything(self) -> bool:
        return ALL in self.grants


FACES = ("api", "ui", "slack")


def owner_key(face: str, principal: str) -> str:
    """Whose conversations: `face:principal` ("api:admin", "api:token:ci", "ui:alice"), so a UI
    user can never be named like an API token's identity (or a Slack user like either)."""
    if face not in FACES:
        raise ValueError(f"unknown face {face!r}")
    return f"{face}:{principal}"


EVERYONE = Principal(owner_key("api", "api"), frozenset({ALL}))


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison on bytes (compare_digest rejects non-ASCII str)."""
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


def check_admin(given: str, admin: str) -> None:
    """NotAuthorisedError unless `given` is the admin token (document admin and re-index, in the
    API and the UI)."""
    if not admin:
        raise NotAuthorisedError(
            "Indexing from the API or the UI is off: the operator has set no admin token "
            "(RAG_SECURITY__ADMIN_TOKEN). Use `rag index` on the server."
        )
    if not _same(given, admin):
        raise NotAuthorisedError("Indexing needs the admin token, which was missing or wrong.")


def _secret(value: object) -> str:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if get is not None else ""


class Access:
    """The grants of one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = settings.access

    def _grants(self, collections: Iterable[str], groups: Iterable[str]) -> frozenset[str]:
        granted = set(collections)
        for g in groups:
            granted.update(self.config.groups.get(g, []))
        return frozenset(granted)

    # -- API tokens -------------------------------------------------------------------------

    @property
    def tokens_required(self) -> bool:
        """Whether the API refuses a request without a known token."""
        return bool(self.settings.api.token or self.config.tokens)

    def by_token(self, given: str) -> Principal | None:
        """The principal a bearer token stands for; None for a missing or wrong one when tokens
        are required (without any token configured, everyone is `EVERYONE`)."""
        admin = _secret(self.settings.security.admin_token)
        if given and _same(given, admin):
            return Principal(owner_key("api", "admin"), frozenset({ALL}), admin=True)
        if given and _same(given, _secret(self.settings.api.token)):
            return EVERYONE
        # Every token is compared, always: the time taken does not tell which one matched.
        found = [t for t in self.config.tokens if _same(given, _secret(t.token))]
        if found:
            t = found[0]
            owner = owner_key("api", f"token:{t.name}")
            return Principal(owner, self._grants(t.collections, t.groups))
        return None if self.tokens_required else EVERYONE

    # -- UI users ---------------------------------------------------------------------------

    def logins(self) -> dict[str, str]:
        """Every UI username with its password: `ui.username` and `access.users`."""
        users = {u.username: _secret(u.password) for u in self.config.users}
        ui = self.settings.ui
        if ui.username and ui.password:
            users[ui.username] = _secret(ui.password)
        return users

    def by_user(self, username: str | None) -> Principal:
        """The principal of a logged-in UI user (without a login: "local", every collection)."""
        if not username:
            return Principal(owner_key("ui", "local"), frozenset({ALL}))
        owner = owner_key("ui", username)
        if username == self.settings.ui.username:
            return Principal(owner, frozenset({ALL}))
        for u in self.config.users:
            if u.username == username:
                return Principal(owner, self._grants(u.collections, u.groups))
        return Principal(owner, frozenset())  # logged in, then removed: nothing

    # -- the decision -----------------------------------------------------------------------

    @staticmethod
    def allowed(principal: Principal, names: Iterable[str]) -> list[str]:
        """The collections among `names` (those that exist) that `principal` may use."""
        return [n for n in names if principal.everything or n in principal.grants]

    def resolve(self, principal: Principal, requested: str | None, names: Container[str]) -> str:
        """The collection `principal` asks for (None or "": the default collection); the same
        CollectionNotFoundError for one that does not exist and one it may not use. `names`:
        the collections that exist (a pool answers `in` without listing the store when the
        collection is open already)."""
        name = requested or self.settings.default_name
        if not (principal.everything or name in principal.grants) or name not in names:
            raise not_found(name)
        return name


def not_found(name: str, noun: str = "collection (model)") -> CollectionNotFoundError:
    """The one error for a collection that is missing or forbidden (OpenAI's wording, where a
    collection is the request's `model`; the CLI, which has no models, says "collection")."""
    shown = name if len(name) <= 100 else name[:100] + "…"
    return CollectionNotFoundError(
        f"The {noun} {shown!r} does not exist or you do not have access to it."
    )
