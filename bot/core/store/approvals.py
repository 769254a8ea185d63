"""Paused answers, the decisions on their tool calls, and the tools a channel always allows.

Every change of state is one conditional UPDATE (``WHERE state = 'pending'`` or ``'paused'``)
whose row count says who won, so a double click, two replicas, or a click racing the timeout
decide a call once and resume its answer once. A decision and the resume are separate
transactions: whoever commits the last decision of a run and then finds none pending resumes it,
whatever the order of concurrent commits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.store.claims import _affected
from bot.core.store.db import Database
from bot.core.store.schema import ApprovalRow, PausedRunRow, ToolAllowanceRow

PENDING = "pending"
PAUSED = "paused"
RESUMED = "resumed"


class ApprovalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, run: PausedRunRow, approvals: Sequence[ApprovalRow]) -> None:
        """Store a paused run and its pending calls together."""
        async with self.db.write() as session:
            session.add(run)
            session.add_all(approvals)

    async def approval(self, approval_id: str) -> ApprovalRow | None:
        async with self.db.sessions() as session:
            return await session.get(ApprovalRow, approval_id)

    async def run(self, run_id: str) -> PausedRunRow | None:
        async with self.db.sessions() as session:
            return await session.get(PausedRunRow, run_id)

    async def approvals_of(self, run_id: str) -> list[ApprovalRow]:
        async with self.db.sessions() as session:
            query = select(ApprovalRow).where(ApprovalRow.run_id == run_id)
            return list((await session.scalars(query.order_by(ApprovalRow.created_at))).all())

    async def decide(
        self, approval_id: str, state: str, by: str | None, always: bool = False
    ) -> bool:
        """Set a pending call's outcome; False when it was decided already."""
        async with self.db.write() as session:
            result = await session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == approval_id, ApprovalRow.state == PENDING)
                .values(state=state, decided_by=by, decided_at=time.time(), always=always)
            )
            return _affected(result) == 1

    async def take_for_resume(self, run_id: str) -> bool:
        """Mark the run resumed if it is paused and none of its calls is pending; True for the
        one caller that did."""
        still_pending = exists().where(ApprovalRow.run_id == run_id, ApprovalRow.state == PENDING)
        async with self.db.write() as session:
            result = await session.execute(
                update(PausedRunRow)
                .where(PausedRunRow.id == run_id, PausedRunRow.state == PAUSED, ~still_pending)
                .values(state=RESUMED, resumed_at=time.time())
            )
            return _affected(result) == 1

    async def set_prompt(self, approval_id: str, prompt_ts: str) -> None:
        """Where the call's buttons are (so a timeout can replace them)."""
        async with self.db.write() as session:
            await session.execute(
                update(ApprovalRow).where(ApprovalRow.id == approval_id).values(prompt_ts=prompt_ts)
            )

    async def due(self, now: float | None = None, limit: int = 100) -> list[ApprovalRow]:
        """Pending calls whose time to decide has run out."""
        query = (
            select(ApprovalRow)
            .where(ApprovalRow.state == PENDING, ApprovalRow.expires_at <= (now or time.time()))
            .order_by(ApprovalRow.expires_at)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            return list((await session.scalars(query)).all())

    async def waiting_in(self, channel: str, tool: str) -> list[ApprovalRow]:
        """The calls of ``tool`` in ``channel`` still waiting for a decision."""
        query = select(ApprovalRow).where(
            ApprovalRow.state == PENDING, ApprovalRow.channel == channel, ApprovalRow.tool == tool
        )
        async with self.db.sessions() as session:
            return list((await session.scalars(query.order_by(ApprovalRow.created_at))).all())

    async def allow(self, team_id: str, channel: str, tool: str, by: str) -> None:
        insert = (postgresql.insert if not self.db.is_sqlite else sqlite.insert)(ToolAllowanceRow)
        statement = insert.values(
            channel=channel, tool=tool, team_id=team_id, allowed_by=by, created_at=time.time()
        ).on_conflict_do_nothing(index_elements=["channel", "tool"])
        async with self.db.write() as session:
            await session.execute(statement)

    async def is_allowed(self, channel: str, tool: str) -> bool:
        async with self.db.sessions() as session:
            return await session.get(ToolAllowanceRow, (channel, tool)) is not None

    async def decisions(self, channel: str | None = None, limit: int = 100) -> list[ApprovalRow]:
        """The audit log: decided calls, the latest first."""
        query = select(ApprovalRow).where(ApprovalRow.state != PENDING)
        if channel is not None:
            query = query.where(ApprovalRow.channel == channel)
        query = query.order_by(ApprovalRow.decided_at.desc()).limit(limit)
        async with self.db.sessions() as session:
            return list((await session.scalars(query)).all())
