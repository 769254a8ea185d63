"""Draws an answer's events into Slack as messages that grow while the model writes.

`SlackReply` joins the two halves: the view (bot.slack.render.view: what the answer looks
like) takes each event as it comes, and the writer (bot.slack.render.writer: which Slack
calls, when, continuation messages, streaming or chat.update) carries it to Slack, paced by
the limiter every answer in the process shares (bot.slack.render.limiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import wording
from bot.core.events import AgentEvent, ApprovalNeeded, Failed, Usage
from bot.core.references import new_reference
from bot.slack.client import without_rate_limit_retries
from bot.slack.render.limiter import SlackLimiter, shared_limiter
from bot.slack.render.view import AnswerView
from bot.slack.render.writer import ReplyTarget, StreamWriter

__all__ = ["ReplyOutcome", "ReplyTarget", "SlackReply"]

log = logging.getLogger("teammate.slack.reply")


@dataclass
class ReplyOutcome:
    status: str = "done"
    text: str = ""
    message_ts: list[str] = field(default_factory=list)
    model_label: str = ""
    usage: Usage | None = None
    error_ref: str | None = None
    error: str | None = None
    """A failed answer's short message (what the person was told)."""
    approvals: list[ApprovalNeeded] = field(default_factory=list)
    """The calls a paused answer waits on (its status is "paused")."""


class SlackReply:
    def __init__(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        *,
        interval: float = 1.0,
        streaming: bool = True,
        on_message: Callable[[list[str]], Awaitable[None]] | None = None,
        limiter: SlackLimiter | None = None,
        reasoning_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.view = AnswerView(reasoning_id=reasoning_id)
        self.writer = StreamWriter(
            without_rate_limit_retries(client),
            target,
            self.view,
            limiter or shared_limiter(),
            interval=interval,
            streaming=streaming,
            on_message=on_message,
            metadata=metadata,
        )

    @property
    def streaming(self) -> bool:
        """False once Slack refused streaming: later answers can start with chat.update."""
        return self.writer.streaming

    async def draw(self, events: AsyncIterator[AgentEvent]) -> ReplyOutcome:
        reader = asyncio.create_task(self._read(events))
        try:
            await self.writer.run()
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        view = self.view
        return ReplyOutcome(
            status=view.status,
            text=view.text,
            message_ts=list(self.writer.message_ts),
            model_label=view.model_label,
            usage=view.usage,
            error_ref=view.failure.reference if view.failure else None,
            error=view.failure.message if view.failure else None,
            approvals=list(view.approvals) if view.paused else [],
        )

    async def _read(self, events: AsyncIterator[AgentEvent]) -> None:
        try:
            async for event in events:
                self.view.take(event)
        except Exception:  # the core reports its failures as events; this is a bug
            reference = new_reference()
            log.exception("answer stream broke ref=%s", reference)
            self.view.take(Failed(wording.ANSWER_STREAM_BROKE, reference))
        finally:
            self.view.finish()
