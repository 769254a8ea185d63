"""Each answer's usage, recorded by the core with the scope it was spent in (for /usage and
budgets): model, tokens, cost, and whether it was completed."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.core.conversation import Scope
from bot.core.events import Usage
from bot.core.store.db import Database
from bot.core.store.schema import UsageRow


class UsageLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, scope: Scope, usage: Usage, status: str, reference: str | None = None
    ) -> None:
        async with self.db.write() as session:
            session.add(
                UsageRow(
                    team_id=scope.team_id,
                    channel=scope.channel_id,
                    channel_kind=scope.channel_kind,
                    thread_ts=scope.thread_ts,
                    user_id=scope.user_id,
                    model=usage.model,
                    status=status,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cost_usd=usage.cost_usd or 0.0,
                    reference=reference,
                    created_at=time.time(),
                )
            )

    async def totals(self, team_id: str | None = None) -> tuple[int, int, int, float]:
        """(answers, input tokens, output tokens, cost) across all recorded answers."""
        query = select(
            func.count(UsageRow.id),
            func.coalesce(func.sum(UsageRow.input_tokens), 0),
            func.coalesce(func.sum(UsageRow.output_tokens), 0),
            func.coalesce(func.sum(UsageRow.cost_usd), 0.0),
        )
        if team_id is not None:
            query = query.where(UsageRow.team_id == team_id)
        async with self.db.sessions() as session:
            row = (await session.execute(query)).one()
            return int(row[0]), int(row[1]), int(row[2]), float(row[3])
