"""Exactly-once work: an event, command or click is claimed in the database before any work.

Slack re-sends what it thinks failed, and several replicas may receive the same event. The
first process to insert the claim row does the work and holds a lease it keeps renewing; a
retry that finds the claim running with a live lease (or done) is a duplicate and is dropped.
If the owner died mid-answer, its lease runs out and the next retry takes the claim over,
learning which messages the dead owner had already posted so it can replace them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.core.background import cancel_and_wait
from bot.core.batches import Batches
from bot.core.store import claim_statements
from bot.core.store.db import Database
from bot.core.store.schema import ClaimRow

log = logging.getLogger("teammate.core.claims")

RUNNING = "running"
_KEYS_PER_UPDATE = 500
DONE = "done"


class ClaimOutcome(Enum):
    NEW = "new"
    TAKEN_OVER = "taken_over"
    DUPLICATE = "duplicate"


@dataclass
class Claim:
    """A held claim. ``previous_replies`` are message ts's a dead owner left behind."""

    key: str
    owner: str
    outcome: ClaimOutcome
    previous_channel: str | None = None
    previous_replies: list[str] = field(default_factory=list)

    @property
    def acquired(self) -> bool:
        return self.outcome is not ClaimOutcome.DUPLICATE


class ClaimStore:
    def __init__(
        self, db: Database, owner: str, lease_seconds: float = 30.0, linger: float = 0.0
    ) -> None:
        """``linger``: how long a batch of claims (or of claims finished) waits for others
        before it is written (:class:`bot.core.batches.Batches`)."""
        self.db = db
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._held: set[str] = set()
        self._finished_elsewhere: set[str] = set()
        self._heartbeat: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Claim]] = set()
        self._inserts = Batches(db.statement, self._insert_rows, linger)
        self._finishes = Batches(db.write, self._finish_rows, linger)

    async def claim(self, key: str) -> Claim:
        now = time.time()
        lease_until = now + self.lease_seconds
        if await self._insert(key, now):
            return Claim(key, self.owner, ClaimOutcome.NEW)
        async with self.db.sessions() as session:  # a duplicate is told apart without writing
            row = await session.get(ClaimRow, key)
        if row is None or row.state != RUNNING or row.lease_until >= now:
            return Claim(key, self.owner, ClaimOutcome.DUPLICATE)
        async with self.db.write() as session:  # the take-over, if the row is still as read
            taken = await session.execute(
                update(ClaimRow)
                .where(
                    ClaimRow.key == key,
                    ClaimRow.state == RUNNING,
                    ClaimRow.lease_until < now,
                    ClaimRow.owner == row.owner,
                    ClaimRow.attempts == row.attempts,
                )
                .values(
                    owner=self.owner,
                    lease_until=lease_until,
                    attempts=row.attempts + 1,
                    updated_at=now,
                )
            )
            if not _affected(taken):
                return Claim(key, self.owner, ClaimOutcome.DUPLICATE)
            return Claim(
                key,
                self.owner,
                ClaimOutcome.TAKEN_OVER,
                previous_channel=row.reply_channel,
                previous_replies=json.loads(row.reply_ts or "[]"),
            )

    def _insert(self, key: str, now: float) -> asyncio.Future[bool]:
        """Whether this process inserted the claim row first: claims asked for while a write
        waits its turn go in together, one INSERT for the lot, so a burst of 200 new events is
        a few statements and not 200 turns at the database."""
        return self._inserts.put((key, now))

    async def _insert_rows(
        self, session: AsyncSession | AsyncConnection, batch: list[tuple[str, float]]
    ) -> list[bool]:
        rows = {  # the first asked for a key gives its row
            key: (key, now + self.lease_seconds, now) for key, now in reversed(batch)
        }
        statement, params = claim_statements.insert_new(
            self.db.dialect, self.owner, RUNNING, list(rows.values())
        )
        won = set((await session.scalars(statement, params)).all())
        firsts: list[bool] = []
        for key, _ in batch:  # a key asked for twice in one batch is won by the first ask
            firsts.append(key in won)
            won.discard(key)
        return firsts

    async def adopt(self, key: str) -> Claim:
        """Hold the claim of a durable run this process is running, whatever its lease.

        The durable engine decided that this process runs the work (it started it, or resumed
        it after a crash), so there is no race to win: a claim this process took first, or one
        a process that only acknowledges finished as it queued the work for a worker (done,
        nothing posted under it), comes back ``NEW``; one a dead process left (taken over here
        by a retry, or not yet) comes back ``TAKEN_OVER``, with the messages the dead owner
        had posted; a claim that was purged is written again."""
        now = time.time()
        async with self.db.write() as session:
            row = await session.get(ClaimRow, key, with_for_update=not self.db.is_sqlite)
            if row is None:
                session.add(
                    ClaimRow(
                        key=key,
                        owner=self.owner,
                        state=RUNNING,
                        lease_until=now + self.lease_seconds,
                        attempts=1,
                        reply_ts="[]",
                        created_at=now,
                        updated_at=now,
                    )
                )
                return Claim(key, self.owner, ClaimOutcome.NEW)
            ours = row.owner == self.owner and row.state == RUNNING
            handed_over = row.state == DONE and row.attempts == 1 and row.reply_channel is None
            if (ours and row.attempts == 1) or handed_over:
                if handed_over:  # queued for a worker by a process that only acknowledged
                    row.owner, row.state, row.attempts = self.owner, RUNNING, 2
                    row.lease_until, row.updated_at = now + self.lease_seconds, now
                return Claim(key, self.owner, ClaimOutcome.NEW)
            previous = Claim(
                key,
                self.owner,
                ClaimOutcome.TAKEN_OVER,
                previous_channel=row.reply_channel,
                previous_replies=json.loads(row.reply_ts or "[]"),
            )
            if ours:  # taken over here already, by a Slack retry
                return previous
            row.owner, row.state = self.owner, RUNNING
            row.lease_until, row.updated_at = now + self.lease_seconds, now
            row.attempts += 1
            return previous

    def claim_soon(self, key: str) -> asyncio.Task[Claim]:
        """Start claiming ``key`` in the background; the task is awaited by whoever acts on it,
        and by ``close()``, so no claim is left half-written at shutdown."""
        task = asyncio.ensure_future(self.claim(key))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def renew(self, claim: Claim) -> bool:
        """Extend the lease; False when another process has taken the claim over."""
        now = time.time()
        async with self.db.write() as session:
            result = await session.execute(
                update(ClaimRow)
                .where(ClaimRow.key == claim.key, ClaimRow.owner == claim.owner)
                .values(lease_until=now + self.lease_seconds, updated_at=now)
            )
            return bool(_affected(result))

    async def record_replies(self, claim: Claim, channel: str, reply_ts: list[str]) -> None:
        """Remember the messages this answer has posted, for a take-over after a crash."""
        async with self.db.write() as session:
            await session.execute(
                update(ClaimRow)
                .where(ClaimRow.key == claim.key, ClaimRow.owner == claim.owner)
                .values(
                    reply_channel=channel, reply_ts=json.dumps(reply_ts), updated_at=time.time()
                )
            )

    async def finish(self, claim: Claim) -> None:
        """Mark the claim done; the claims finished while a write waits go in one UPDATE."""
        await self._finishes.put(claim)

    def finished_elsewhere(self, claim: Claim) -> None:
        """The claim was marked done in another transaction (with the session queued for a
        worker: :func:`bot.core.store.claim_statements.finish`): :meth:`held` does not write it
        again."""
        self._finished_elsewhere.add(claim.key)

    async def _finish_rows(self, session: AsyncSession, claims: list[Claim]) -> list[None]:
        now = time.time()
        by_owner: dict[str, list[str]] = {}
        for claim in claims:
            by_owner.setdefault(claim.owner, []).append(claim.key)
        for owner, keys in by_owner.items():
            await session.execute(*claim_statements.finish(self.db.dialect, owner, DONE, keys, now))
        return [None] * len(claims)

    async def replies_of_others(self, channel: str, key: str) -> set[str]:
        """Messages in ``channel`` that other claims' answers posted (so never leftovers)."""
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(ClaimRow.reply_ts).where(
                    ClaimRow.reply_channel == channel, ClaimRow.key != key
                )
            )
            return {ts for row in rows for ts in json.loads(row or "[]")}

    async def state(self, key: str) -> str | None:
        async with self.db.sessions() as session:
            return await session.scalar(select(ClaimRow.state).where(ClaimRow.key == key))

    async def purge(self, older_than_seconds: float = 86400.0) -> int:
        """Forget claims older than Slack's retry window (a day by default), but not one still
        held with a live lease (a long task): it runs hourly, beside the answers."""
        now = time.time()
        cutoff = now - older_than_seconds
        held = (ClaimRow.state == RUNNING) & (ClaimRow.lease_until >= now)
        async with self.db.write() as session:
            result = await session.execute(
                delete(ClaimRow).where(ClaimRow.created_at < cutoff, ~held)
            )
            return _affected(result)

    @contextlib.asynccontextmanager
    async def held(self, claim: Claim) -> AsyncIterator[Claim]:
        """Keep the lease alive while the body runs, then mark the claim done.

        If the body raises, the claim stays running and its lease runs out, so a retry can
        take it over; that is what a crash looks like too. One heartbeat per process renews
        every held claim in a single UPDATE, however many answers are in flight.
        """
        self._held.add(claim.key)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat())
        try:
            yield claim
        finally:
            self._held.discard(claim.key)
            done_already = claim.key in self._finished_elsewhere
            self._finished_elsewhere.discard(claim.key)
        if not done_already:
            await self.finish(claim)

    async def _beat(self) -> None:
        while self._held:
            await asyncio.sleep(self.lease_seconds / 3)
            keys = list(self._held)
            now = time.time()
            try:
                async with self.db.write() as session:
                    for start in range(0, len(keys), _KEYS_PER_UPDATE):
                        await session.execute(
                            update(ClaimRow)
                            .where(
                                ClaimRow.owner == self.owner,
                                ClaimRow.state == RUNNING,
                                ClaimRow.key.in_(keys[start : start + _KEYS_PER_UPDATE]),
                            )
                            .values(lease_until=now + self.lease_seconds, updated_at=now)
                        )
            except Exception:  # a missed beat is retried; the lease has slack for two more
                log.warning("could not renew %d claims", len(keys), exc_info=True)

    async def close(self) -> None:
        if self._pending:
            await asyncio.wait(self._pending, timeout=10)
        await cancel_and_wait(self._heartbeat)


def _affected(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched (its result is a CursorResult)."""
    return result.rowcount if isinstance(result, CursorResult) else 0
