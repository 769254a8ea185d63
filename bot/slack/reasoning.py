"""Keeps an answer's reasoning for its "Show reasoning" button.

The reasoning streams in beside the answer and is never drawn into it. It is collected here,
cut to what one modal can show, and saved when the answer is done but before its footer is
drawn, so the button never points at nothing; should the save fail, the answer goes out
without the button.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

from bot.core.events import AgentEvent, Done, Paused, ThinkingDelta
from bot.core.store import ReasoningStore
from bot.slack.blocks import reasoning_pages
from bot.slack.render.view import AnswerView
from bot.slack.render.writer import ReplyTarget

log = logging.getLogger("teammate.slack.reasoning")


class ReasoningKeeper:
    """One answer's reasoning: ``id`` is what its button carries."""

    def __init__(self, store: ReasoningStore, target: ReplyTarget) -> None:
        self.store = store
        self.target = target
        self.id = uuid.uuid4().hex
        self.saved = False
        self._parts: list[str] = []

    async def watch(
        self, events: AsyncIterator[AgentEvent], view: AnswerView
    ) -> AsyncIterator[AgentEvent]:
        """``events`` unchanged, the reasoning collected from them on the way."""
        async for event in events:
            if isinstance(event, ThinkingDelta):
                self._parts.append(event.text)
            elif isinstance(event, Done | Paused) and "".join(self._parts).strip():
                if not await self._save(event.model_label):
                    view.reasoning_id = None
            yield event

    async def posted(self, message_ts: list[str]) -> None:
        """The answer is in Slack: its last message carries the button."""
        if not self.saved or not message_ts:
            return
        try:
            await self.store.posted(self.id, message_ts[-1])
        except Exception:  # noqa: BLE001 - the button works without it
            log.warning("could not note where reasoning %s was posted", self.id, exc_info=True)

    async def _save(self, model: str) -> bool:
        pages, cut = reasoning_pages("".join(self._parts))
        try:
            await self.store.save(
                self.id,
                channel=self.target.channel,
                text="".join(pages),
                cut=cut,
                model=model,
                team_id=self.target.team_id,
                thread_ts=self.target.thread_ts,
            )
        except Exception:  # noqa: BLE001 - the answer matters more than its reasoning
            log.warning("could not keep the reasoning of an answer", exc_info=True)
            return False
        self.saved = True
        return True
