"""Each answer's reasoning summary, kept so its "Show reasoning" button can open it later.

Saved before the answer's footer (and so its button) reaches Slack, under the id the button
carries; the message it ended up on is added once it is known. Whoever cuts the text to what
can be shown does so before saving: the store keeps what it is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import update

from bot.core.store.db import Database
from bot.core.store.schema import ReasoningRow


@dataclass(frozen=True, slots=True)
class Reasoning:
    text: str
    cut: bool
    model: str


class ReasoningStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(
        self,
        reasoning_id: str,
        *,
        channel: str,
        text: str,
        cut: bool = False,
        model: str = "",
        team_id: str = "",
        thread_ts: str = "",
    ) -> None:
        async with self.db.sessions.begin() as session:
            await session.merge(
                ReasoningRow(
                    id=reasoning_id,
                    team_id=team_id,
                    channel=channel,
                    thread_ts=thread_ts,
                    model=model,
                    text=text,
                    cut=cut,
                    created_at=time.time(),
                )
            )

    async def posted(self, reasoning_id: str, message_ts: str) -> None:
        """The answer carrying the reasoning's button is the message ``message_ts``."""
        statement = (
            update(ReasoningRow)
            .where(ReasoningRow.id == reasoning_id)
            .values(message_ts=message_ts)
        )
        async with self.db.sessions.begin() as session:
            await session.execute(statement)

    async def get(self, reasoning_id: str, channel: str) -> Reasoning | None:
        """The reasoning behind an answer in ``channel``; None when there is none there."""
        async with self.db.sessions() as session:
            row = await session.get(ReasoningRow, reasoning_id)
        if row is None or row.channel != channel:
            return None
        return Reasoning(row.text, row.cut, row.model)
