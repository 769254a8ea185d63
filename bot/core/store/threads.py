"""Threads Teammate takes part in, so a follow-up there is answered without a new mention.

Kept in the database rather than found by reading each thread from Slack: every message in
every channel the bot is in arrives as an event, and a Web API call per message would spend
the workspace's rate limits on threads Teammate has nothing to do with.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.store.db import Database
from bot.core.store.schema import ThreadRow


class ThreadStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def join(
        self,
        channel: str,
        thread_ts: str,
        team_id: str = "",
        user: str = "",
        since_ts: str | None = None,
    ) -> None:
        now = time.time()
        insert = (postgresql.insert if not self.db.is_sqlite else sqlite.insert)(ThreadRow)
        statement = insert.values(
            channel=channel,
            thread_ts=thread_ts,
            team_id=team_id,
            started_by=user,
            since_ts=since_ts,
            replies=0,
            created_at=now,
            updated_at=now,
        ).on_conflict_do_nothing(index_elements=["channel", "thread_ts"])
        async with self.db.write() as session:
            await session.execute(statement)

    async def is_member(self, channel: str, thread_ts: str, message_ts: str | None = None) -> bool:
        """Whether Teammate is in the thread; with ``message_ts``, whether that message came
        after Teammate was first asked there (events can arrive late and out of order)."""
        async with self.db.sessions() as session:
            row = await session.get(ThreadRow, (channel, thread_ts))
        if row is None:
            return False
        return message_ts is None or row.since_ts is None or _ts(message_ts) > _ts(row.since_ts)

    async def started_by(self, user: str, limit: int = 5) -> list[ThreadRow]:
        """The threads ``user`` started with Teammate, the latest first."""
        query = (
            select(ThreadRow)
            .where(ThreadRow.started_by == user)
            .order_by(ThreadRow.created_at.desc())
            .limit(limit)
        )
        async with self.db.sessions() as session:
            return list((await session.scalars(query)).all())


def _ts(value: str) -> tuple[int, int]:
    seconds, _, fraction = value.partition(".")
    return int(seconds), int(fraction or 0)
