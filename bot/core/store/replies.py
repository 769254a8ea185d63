"""Per-answer records: where it went, which model, tokens and cost (for /usage later)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.core.store.db import Database
from bot.core.store.schema import ReplyRow


@dataclass
class ReplyRecord:
    claim_key: str
    channel: str
    thread_ts: str
    status: str
    team_id: str = ""
    user_id: str = ""
    reply_ts: list[str] = field(default_factory=list)
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error_ref: str | None = None


class ReplyLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, reply: ReplyRecord) -> None:
        async with self.db.sessions.begin() as session:
            session.add(
                ReplyRow(
                    claim_key=reply.claim_key,
                    team_id=reply.team_id,
                    channel=reply.channel,
                    thread_ts=reply.thread_ts,
                    user_id=reply.user_id,
                    reply_ts=json.dumps(reply.reply_ts),
                    model=reply.model,
                    status=reply.status,
                    input_tokens=reply.input_tokens,
                    output_tokens=reply.output_tokens,
                    cost_usd=reply.cost_usd,
                    error_ref=reply.error_ref,
                    created_at=time.time(),
                )
            )

    async def totals(self, team_id: str | None = None) -> tuple[int, int, int, float]:
        """(answers, input tokens, output tokens, cost) across all recorded replies."""
        query = select(
            func.count(ReplyRow.id),
            func.coalesce(func.sum(ReplyRow.input_tokens), 0),
            func.coalesce(func.sum(ReplyRow.output_tokens), 0),
            func.coalesce(func.sum(ReplyRow.cost_usd), 0.0),
        )
        if team_id is not None:
            query = query.where(ReplyRow.team_id == team_id)
        async with self.db.sessions() as session:
            row = (await session.execute(query)).one()
            return int(row[0]), int(row[1]), int(row[2]), float(row[3])
