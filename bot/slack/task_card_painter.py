"""Keeps one task's card current: redraws coalesced, paced through the shared limiter.

A task changes often (each step, each model request); its card is redrawn with the latest
state at most once per ``interval`` and only when its turn comes in the workspace's
``chat.update`` lane, which every answer shares, so however many tasks run the updates stay
within Slack's tier. Before each redraw the task's progress (plan, tokens, cost) is stored, so
a task picked up after a restart goes on from what its card showed. ``finish`` draws the final
state once and stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.background import cancel_and_wait
from bot.core.tasks.live import LiveTask
from bot.slack.render import task_card
from bot.slack.render.limiter import shared_limiter, workspace_key

log = logging.getLogger("teammate.slack.tasks")


class CardPainter:
    def __init__(
        self,
        client: AsyncWebClient,
        live: LiveTask,
        interval: float = 1.0,
        keep: Callable[[LiveTask], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.live = live
        self.interval = interval
        self.keep = keep
        self._dirty = asyncio.Event()
        self._drawing: asyncio.Task[None] | None = None

    async def changed(self, live: LiveTask) -> None:
        """Note a change; the card shows it at its next turn (never waits for Slack)."""
        self._dirty.set()
        if self._drawing is None or self._drawing.done():
            self._drawing = asyncio.create_task(self._keep_drawing())

    async def finish(self) -> None:
        """Stop redrawing and draw the final state."""
        await cancel_and_wait(self._drawing)
        await self.draw()

    async def draw(self) -> None:
        task = self.live.task
        if task.card_ts is None:
            return
        text, blocks = task_card.card(task, self.live.elapsed, self.live.taken_in)
        lane = shared_limiter().lane(workspace_key(self.client.token), "chat.update")
        try:
            async with lane.call():
                await self.client.chat_update(
                    channel=task.channel, ts=task.card_ts, text=text, blocks=blocks
                )
        except SlackApiError as exc:
            log.warning("could not redraw task %s: %s", task.short_id, exc.response.get("error"))

    async def _keep_drawing(self) -> None:
        while self._dirty.is_set():
            self._dirty.clear()
            if self.keep is not None:
                try:
                    await self.keep(self.live)
                except Exception:  # noqa: BLE001 - the card still shows it; the next change stores it
                    log.warning("could not store task %s", self.live.task.short_id, exc_info=True)
            await self.draw()
            await asyncio.sleep(self.interval)
