"""Questions out of Slack's message markup, and a thread read back as (question, answer) turns.

History is fetched from Slack (`conversations.replies` for a thread, `conversations.history`
for a DM) rather than kept in memory: the bot stays stateless, so a restart, a second replica
or an answer edited by `chat.update` all see the same conversation the user sees, and nothing
grows without bound in the process. The cost is one Web API call per follow-up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from rag.slack.blocks import PLACEHOLDER_TEXT, unescape

log = logging.getLogger(__name__)

MAX_TURNS = 5  # earlier turns passed to the assistant; the prompt has a small context window
DM_WINDOW_S = 3600.0  # a DM's top-level messages older than this start a new conversation

History = list[tuple[str, str]]

# Slack's markup: <@U123>, <@U123|name>, <#C123|general>, <!here>, <https://x|label>, <https://x>
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<([^|>]+)(?:\|([^>]*))?>")


def clean_question(text: str, bot_user_id: str | None = None) -> str:
    """Plain text of a Slack message: the bot's own mention removed, other markup readable.

    slack_sdk has no parser for this markup (it only builds messages), hence the regexes.
    """

    def user(m: re.Match[str]) -> str:
        if m.group(1) == bot_user_id:
            return ""
        return "@" + (m.group(2) or m.group(1))

    text = _USER.sub(user, text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(1) or "channel"), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return " ".join(unescape(text).split())


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _USER.finditer(text))


def is_from_bot(message: Mapping[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    """Our own message: posted with our bot token (its user, or its bot id)."""
    return bool(
        (bot_user_id and message.get("user") == bot_user_id)
        or (bot_id and message.get("bot_id") == bot_id)
    )


def history_from_messages(
    messages: Iterable[Mapping[str, Any]],
    *,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None = None,
    max_turns: int = MAX_TURNS,
) -> History:
    """Pair each user question with the bot answer that followed it, oldest first.

    Messages at or after `before_ts` (the question being answered) are left out, as are other
    bots, placeholders that were never replaced, and questions that got no answer.
    """
    turns: History = []
    pending: str | None = None
    for m in sorted(messages, key=lambda m: float(m.get("ts", 0))):
        if float(m.get("ts", 0)) >= float(before_ts):
            break
        if is_from_bot(m, bot_user_id, bot_id):
            text = unescape(m.get("text", "")).strip()
            if pending and text and text != PLACEHOLDER_TEXT:
                turns.append((pending, text))
                pending = None
        elif not m.get("bot_id") and not m.get("subtype"):
            question = clean_question(m.get("text", ""), bot_user_id)
            if question:
                pending = question
    return turns[-max_turns:]


def thread_messages(client: WebClient, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    """The messages of a thread (parent first); empty when Slack refuses (e.g. a missing scope)."""
    try:
        resp = client.conversations_replies(channel=channel, ts=thread_ts, limit=100)
    except SlackApiError as e:
        log.warning("conversations.replies failed: %s", e.response.get("error"))
        return []
    return list(resp.get("messages") or [])


def dm_messages(client: WebClient, channel: str, before_ts: str) -> list[dict[str, Any]]:
    """A DM's recent top-level messages (the last hour), oldest first."""
    oldest = f"{float(before_ts) - DM_WINDOW_S:.6f}"
    try:
        resp = client.conversations_history(
            channel=channel, latest=before_ts, oldest=oldest, limit=2 * MAX_TURNS + 2
        )
    except SlackApiError as e:
        log.warning("conversations.history failed: %s", e.response.get("error"))
        return []
    return list(reversed(resp.get("messages") or []))
