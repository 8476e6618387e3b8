"""Slack events, the /ask command and button clicks, translated into assistant calls.

Acknowledge first, answer after: the App runs with `process_before_response=False` (a
long-running server, not FaaS), so bolt acknowledges events itself before running a listener in
its thread pool, and the command and action listeners below call `ack()` before anything slow.
Slack gets its 200 within milliseconds however long the LLM takes. (Lazy listeners exist for
FaaS, where the process may be frozen once the response is sent; that is not our case.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from rag.core import logs
from rag.core.errors import NotAuthorisedError, RagError
from rag.core.settings import SlackSettings
from rag.core.types import Answer, AssistantLike
from rag.service.access import owner_key
from rag.service.collections import AssistantOrPool
from rag.service.export import SourceURL
from rag.service.quotas import Quotas
from rag.slack import blocks
from rag.slack.conversation import (
    History,
    clean_question,
    dm_messages,
    history_from_messages,
    is_from_bot,
    mentions,
    thread_messages,
)
from rag.slack.state import AnswerCache, SeenKeys
from rag.state.engine import StateDB
from rag.state.feedback import FeedbackStore

log = logging.getLogger(__name__)

USAGE = "Ask me about the paper collection, e.g. `/ask which methods quantize LLMs to 4 bits?`"
EXPIRED = "That answer is no longer available (it is too old); ask again."


class SlackBot:
    """The bot's behaviour; `register(app)` wires it to a bolt App."""

    def __init__(
        self,
        assistant: AssistantOrPool,
        settings: SlackSettings,
        feedback: FeedbackStore,
        state: StateDB | None = None,
        quotas: Quotas | None = None,
        source_url: SourceURL | None = None,
        links: Callable[[str | None], SourceURL | None] | None = None,
    ) -> None:
        """`assistant`: one assistant, or a pool of collections (rag/service/collections.py) from
        which each channel gets the one `slack.channel_collections` maps it to. `state` (default:
        the store in the feedback store's file) keeps handled events and answers across restarts and
        between bot processes. `quotas`: each Slack user's limits (rag/service/quotas.py); none:
        no limits. `source_url`: where each cited source links (rag/service/export.py
        `public_view_url`, from settings.public_url); none: no links. `links`, when given,
        instead makes it per collection (the channel's; None: the default), so that a link
        signed when tokens are on opens that collection only (rag/service/links.py)."""
        self.assistant = assistant
        self.source_url = source_url
        self.links = links
        self.quotas = quotas
        self.channel_collections = dict(settings.channel_collections)
        self.unmapped_channels = settings.unmapped_channels
        self.channels = set(settings.channels)
        self.mention_only = settings.mention_only
        self.feedback = feedback
        state = state if state is not None else feedback.store
        self.answers = AnswerCache(state)
        # event_id: Slack's retries carry the same id
        self._events = SeenKeys(state, "slack-event")
        # channel:ts: one message may arrive as two events
        self._messages = SeenKeys(state, "slack-message")

    def register(self, app: App) -> None:
        app.middleware(self.drop_duplicate_events)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command("/ask")(self.on_ask)
        app.action(blocks.ACTION_SHARE)(self.on_share)
        app.action(re.compile(f"^({blocks.ACTION_FEEDBACK_UP}|{blocks.ACTION_FEEDBACK_DOWN})$"))(
            self.on_feedback
        )

    # -- middleware -----------------------------------------------------------------------

    def drop_duplicate_events(
        self, body: dict[str, Any], request: BoltRequest, next: Callable[[], None]
    ) -> BoltResponse | None:
        """A retried event (`X-Slack-Retry-Num`, same event_id) is acknowledged, not handled."""
        event_id = body.get("event_id")
        if event_id and not self._events.claim(event_id):
            retry = request.headers.get("x-slack-retry-num", ["?"])[0]
            log.info("dropping duplicate event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        next()
        return None

    # -- events ---------------------------------------------------------------------------

    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """`@bot question` in a channel: answer in the thread under the question."""
        channel = event["channel"]
        if event.get("bot_id") or not self._channel_allowed(channel):
            return
        if not self._messages.claim(f"{channel}:{event['ts']}"):
            return
        parent = event.get("thread_ts")
        history: History = []
        if parent:
            history = self._history(thread_messages(client, channel, parent), event, context)
        question = clean_question(event.get("text", ""), context.bot_user_id)
        user = event.get("user")
        self._answer_in(client, channel, parent or event["ts"], question, history, user)

    def on_message(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """DMs, follow-ups in threads the bot answered in, and (mention_only off) any message."""
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, other bots' and our own messages
        if is_from_bot(event, context.bot_user_id, context.bot_id):
            return
        channel, ts = event["channel"], event["ts"]
        parent = event.get("thread_ts") if event.get("thread_ts") != ts else None
        text = event.get("text", "")
        if event.get("channel_type") == "im":
            if parent:
                messages = thread_messages(client, channel, parent)
            else:
                messages = dm_messages(client, channel, ts)
            self._answer_message_event(client, channel, parent, event, context, messages)
            return
        if mentions(text, context.bot_user_id) or not self._channel_allowed(channel):
            return  # a mention is answered by on_mention
        if parent:
            messages = thread_messages(client, channel, parent)
            ours = any(is_from_bot(m, context.bot_user_id, context.bot_id) for m in messages)
            if ours or not self.mention_only:
                self._answer_message_event(client, channel, parent, event, context, messages)
        elif not self.mention_only:
            self._answer_message_event(client, channel, ts, event, context, [])

    def _answer_message_event(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        event: dict[str, Any],
        context: BoltContext,
        messages: list[dict[str, Any]],
    ) -> None:
        if not self._messages.claim(f"{channel}:{event['ts']}"):
            return
        question = clean_question(event.get("text", ""), context.bot_user_id)
        history = self._history(messages, event, context)
        self._answer_in(client, channel, thread_ts, question, history, event.get("user"))

    @staticmethod
    def _history(
        messages: list[dict[str, Any]], event: Mapping[str, Any], context: BoltContext
    ) -> History:
        return history_from_messages(
            messages, before_ts=event["ts"], bot_user_id=context.bot_user_id, bot_id=context.bot_id
        )

    def _channel_allowed(self, channel: str) -> bool:
        return not self.channels or channel in self.channels

    def _answer_in(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        question: str,
        history: History,
        user: str | None = None,
    ) -> None:
        """Post the placeholder at once, then replace it with the answer (`chat.update`)."""
        if not question:
            client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **blocks.notice_message(USAGE)
            )
            return
        placeholder = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **blocks.placeholder_message(question)
        )
        message, _ = self._compose(question, history, channel=channel, user=user)
        client.chat_update(channel=channel, ts=placeholder["ts"], **message)

    def _compose(
        self,
        question: str,
        history: History,
        *,
        shareable: bool = False,
        channel: str | None = None,
        user: str | None = None,
    ) -> tuple[dict[str, Any], Answer | None]:
        """The answer from `channel`'s collection as a message; an expected failure (a quota
        of `user` reached included) becomes a message, never a trace."""
        owner = owner_key("slack", user or "unknown")
        try:
            assistant = self._assistant_for(channel)
            if self.quotas is not None:
                self.quotas.check(owner, "slack")
            with logs.request("slack"):  # its log lines and metrics carry the face and an id
                answer: Answer = assistant.ask(question, history=history or None)
            if self.quotas is not None:
                self.quotas.record(owner, answer)
        except RagError as e:
            return blocks.notice_message(str(e), emoji=":warning:"), None
        except Exception:
            log.exception("answering failed")
            return blocks.notice_message(
                "Something went wrong while answering; please try again.", emoji=":warning:"
            ), None
        answer_id = self.answers.put(answer)
        message = blocks.answer_message(
            answer, answer_id=answer_id, shareable=shareable, url=self._url(channel)
        )
        return message, answer

    def _url(self, channel: str | None) -> SourceURL | None:
        """Where each cited source of an answer in `channel` links (its collection's links)."""
        if self.links is not None:
            return self.links(self.channel_collections.get(channel or ""))
        return self.source_url

    def _assistant_for(self, channel: str | None) -> AssistantLike:
        """The assistant of the collection `channel` is mapped to: only that collection's
        passages can reach the channel. Unmapped channels (and DMs) ask the default collection,
        or are refused with `slack.unmapped_channels = "refuse"`."""
        name = self.channel_collections.get(channel or "")
        if name is None and self.unmapped_channels == "refuse":
            raise NotAuthorisedError(
                "This channel is not mapped to a collection, so I cannot answer here "
                "(the operator maps channels in slack.channel_collections)."
            )
        if not (hasattr(self.assistant, "get") and hasattr(self.assistant, "names")):
            return self.assistant  # one assistant: build_app gives a pool
        return self.assistant.get(name)

    # -- /ask -----------------------------------------------------------------------------

    def on_ask(self, ack: Callable[..., None], command: dict[str, Any], respond: Any) -> None:
        """`/ask question`: an answer only the asker sees, with a button to share it."""
        question = clean_question(command.get("text", ""))
        if not question:
            ack(**blocks.notice_message(USAGE))
            return
        ack(response_type="ephemeral", **blocks.placeholder_message(question))
        channel, user = command.get("channel_id"), command.get("user_id")
        message, _ = self._compose(question, [], shareable=True, channel=channel, user=user)
        respond(response_type="ephemeral", replace_original=True, **message)

    # -- buttons --------------------------------------------------------------------------

    def _answer_for(self, action: dict[str, Any], respond: Any) -> Answer | None:
        """The answer a button belongs to; None (and the asker told) once it has expired."""
        answer = self.answers.get(action.get("value", ""))
        if answer is None:
            respond(response_type="ephemeral", replace_original=False, **_notice(EXPIRED))
        return answer

    def on_share(
        self,
        ack: Callable[[], None],
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Any,
    ) -> None:
        """Post an ephemeral /ask answer publicly in the channel, then drop the private copy."""
        ack()
        answer = self._answer_for(action, respond)
        if answer is None:
            return
        user, channel = body["user"]["id"], body["channel"]["id"]
        message = blocks.answer_message(
            answer, answer_id=action["value"], asked_by=user, url=self._url(channel)
        )
        try:
            client.chat_postMessage(channel=channel, **message)
        except SlackApiError as e:
            reason = e.response.get("error", "unknown error")
            text = f"Could not share ({reason}). Invite me to this channel with /invite first."
            respond(response_type="ephemeral", replace_original=False, **_notice(text))
            return
        respond(delete_original=True)

    def on_feedback(
        self, ack: Callable[[], None], body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        """Helpful / not helpful, into the feedback store shared with the UI."""
        ack()
        answer = self._answer_for(action, respond)
        if answer is None:
            return
        helpful = action["action_id"] == blocks.ACTION_FEEDBACK_UP
        self.feedback.record(
            answer, rating=1 if helpful else -1, channel="slack", user=body["user"]["id"]
        )
        thanks = "Thanks, noted as helpful." if helpful else "Thanks, noted as not helpful."
        respond(response_type="ephemeral", replace_original=False, **_notice(thanks))


def _notice(text: str) -> dict[str, Any]:
    return blocks.notice_message(text)
