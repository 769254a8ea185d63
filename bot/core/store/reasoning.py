"""Each answer's reasoning summary, kept so its "Show reasoning" button can open it later.

Saved before the answer's footer (and so its button) reaches Slack, under the id the button
carries; the message it ended up on is added once it is known. Whoever cuts the text to what
can be shown does so before saving: the store keeps what it is given.

Reasoning is kept for ``keep_days`` (``TEAMMATE_REASONING_DAYS``), then :meth:`purge` deletes
it: one DELETE over the indexed ``created_at``, so running it often costs next to nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, update

from bot.core.store.db import Database
from bot.core.store.schema import ReasoningRow


@dataclass(frozen=True, slots=True)
class Reasoning:
    text: str
    cut: bool
    model: str


class ReasoningStore:
    def __init__(self, db: Database, keep_days: float = 30.0) -> None:
        self.db = db
        self.keep_days = keep_days

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
        async with self.db.write() as session:
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
        async with self.db.write() as session:
            await session.execute(statement)

    async def purge(self, now: float | None = None) -> int:
        """Delete the reasoning older than ``keep_days``; how many went."""
        cutoff = (time.time() if now is None else now) - self.keep_days * 86400
        async with self.db.write() as session:
            result = await session.execute(
                delete(ReasoningRow).where(ReasoningRow.created_at < cutoff)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def get(self, reasoning_id: str, channel: str) -> Reasoning | None:
        """The reasoning behind an answer in ``channel``; None when there is none there."""
        async with self.db.sessions() as session:
            row = await session.get(ReasoningRow, reasoning_id)
        if row is None or row.channel != channel:
            return None
        return Reasoning(row.text, row.cut, row.model)
