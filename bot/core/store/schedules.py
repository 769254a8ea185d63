"""Recurring tasks and their runs: created with a short id, due ones found, each slot claimed
by exactly one process, cancelled.

Claiming a slot is one transaction: move the schedule's ``next_at`` on, if it still names that
slot and the schedule is not cancelled, and insert the slot's run row, whose primary key is
(schedule, slot). Whichever process commits first runs the slot; every other one finds
``next_at`` moved or the row there, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.store.claims import _affected
from bot.core.store.db import Database
from bot.core.store.schema import ScheduleRow, ScheduleRunRow
from bot.core.store.tasks import new_short_id
from bot.core.tasks.recurrence import Recurrence, rule_of

SCHEDULE_ID_LENGTH = 7
"""A character longer than a task's id, so the two never collide and ``/task cancel ID`` can
tell them apart."""


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    short_id: str
    team_id: str
    channel: str
    creator: str
    text: str
    """The task as asked each time: its options and goal."""
    rule: str
    tz: str
    anchor_at: float
    next_at: float
    created_at: float
    cancelled_at: float | None = None
    cancelled_by: str | None = None

    @property
    def recurrence(self) -> Recurrence:
        return rule_of(self.rule)

    def describe(self) -> str:
        """``every Monday 09:00 Europe/Berlin``."""
        return self.recurrence.describe(self.tz, self.anchor_at)

    def slot_after(self, after: float) -> float:
        return self.recurrence.next_after(after, self.anchor_at, self.tz)


@dataclass(frozen=True, slots=True)
class Run:
    schedule_id: str
    slot: int
    owner: str
    state: str
    note: str | None
    claimed_at: float
    finished_at: float | None


class _RanAlready(Exception):
    """The slot's run row exists: the claim's transaction is rolled back."""


class ScheduleStore:
    def __init__(self, db: Database, owner: str = "") -> None:
        self.db = db
        self.owner = owner

    async def create(
        self,
        team_id: str,
        channel: str,
        creator: str,
        text: str,
        recurrence: Recurrence,
        tz: str,
        now: float | None = None,
    ) -> Schedule:
        """A new schedule whose first slot is the first after ``now``."""
        now = time.time() if now is None else now
        for _ in range(5):
            schedule = Schedule(
                id=uuid.uuid4().hex,
                short_id=new_short_id(SCHEDULE_ID_LENGTH),
                team_id=team_id,
                channel=channel,
                creator=creator,
                text=text,
                rule=recurrence.rule,
                tz=tz,
                anchor_at=now,
                next_at=recurrence.next_after(now, now, tz),
                created_at=now,
            )
            async with self.db.write() as session:
                taken = await session.scalar(
                    select(ScheduleRow.id).where(ScheduleRow.short_id == schedule.short_id)
                )
                if taken is None:
                    session.add(ScheduleRow(**_fields(schedule)))
                    return schedule
        raise RuntimeError("could not draw a free short schedule id")

    async def by_id(self, schedule_id: str) -> Schedule | None:
        async with self.db.sessions() as session:
            row = await session.get(ScheduleRow, schedule_id)
        return _schedule(row) if row is not None else None

    async def get(self, short_id: str) -> Schedule | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(ScheduleRow).where(ScheduleRow.short_id == short_id.lower())
            )
        return _schedule(row) if row is not None else None

    async def listed(self, channel: str) -> list[Schedule]:
        """The channel's schedules that still run, the next to run first."""
        statement = (
            select(ScheduleRow)
            .where(ScheduleRow.channel == channel, ScheduleRow.cancelled_at.is_(None))
            .order_by(ScheduleRow.next_at)
        )
        async with self.db.sessions() as session:
            return [_schedule(row) for row in (await session.scalars(statement)).all()]

    async def cancel(self, schedule: Schedule, by: str) -> bool:
        """Stop the schedule's runs from its next slot; False when it was cancelled already."""
        async with self.db.write() as session:
            result = await session.execute(
                update(ScheduleRow)
                .where(ScheduleRow.id == schedule.id, ScheduleRow.cancelled_at.is_(None))
                .values(cancelled_at=time.time(), cancelled_by=by)
            )
            return _affected(result) == 1

    async def due(self, now: float, limit: int = 100) -> list[Schedule]:
        """Schedules whose next slot has come, the longest waiting first."""
        statement = (
            select(ScheduleRow)
            .where(ScheduleRow.next_at <= now, ScheduleRow.cancelled_at.is_(None))
            .order_by(ScheduleRow.next_at)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            return [_schedule(row) for row in (await session.scalars(statement)).all()]

    async def claim(self, schedule: Schedule, now: float) -> int | None:
        """Claim the slot ``schedule.next_at`` for this process: the slot (epoch seconds) when
        it is ours to run, None when another process has it or the schedule was cancelled.
        The next slot is the first after ``now``, so slots missed while nothing ran are run
        once, not once each."""
        slot = int(schedule.next_at)
        following = schedule.slot_after(max(now, schedule.next_at))
        insert = (sqlite.insert if self.db.is_sqlite else postgresql.insert)(ScheduleRunRow)
        try:
            async with self.db.write() as session:
                moved = await session.execute(
                    update(ScheduleRow)
                    .where(
                        ScheduleRow.id == schedule.id,
                        ScheduleRow.next_at == schedule.next_at,
                        ScheduleRow.cancelled_at.is_(None),
                    )
                    .values(next_at=following)
                )
                if _affected(moved) != 1:
                    return None
                inserted = await session.scalar(
                    insert.values(
                        schedule_id=schedule.id,
                        slot=slot,
                        owner=self.owner,
                        state="running",
                        claimed_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["schedule_id", "slot"])
                    .returning(ScheduleRunRow.slot)
                )
                if inserted is None:  # ran already: undo the move, another process made it
                    raise _RanAlready
        except _RanAlready:
            return None
        return slot

    async def finish(self, schedule_id: str, slot: int, state: str, note: str | None) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(ScheduleRunRow)
                .where(ScheduleRunRow.schedule_id == schedule_id, ScheduleRunRow.slot == slot)
                .values(state=state, note=note, finished_at=time.time())
            )

    async def unstarted(self, before: float) -> list[Run]:
        """Slots claimed before ``before`` whose run has not yet started its task: their
        process may have died between the claim and the card."""
        statement = select(ScheduleRunRow).where(
            ScheduleRunRow.state == "running", ScheduleRunRow.claimed_at < before
        )
        async with self.db.sessions() as session:
            return [_run(row) for row in (await session.scalars(statement)).all()]

    async def previous(self, schedule_id: str, slot: int) -> Run | None:
        """The last slot before ``slot`` that started a run (or is starting one)."""
        statement = (
            select(ScheduleRunRow)
            .where(
                ScheduleRunRow.schedule_id == schedule_id,
                ScheduleRunRow.slot < slot,
                ScheduleRunRow.state.in_(("running", "done")),
            )
            .order_by(ScheduleRunRow.slot.desc())
            .limit(1)
        )
        async with self.db.sessions() as session:
            row = await session.scalar(statement)
        return _run(row) if row is not None else None

    async def skipped_since(self, schedule_id: str, slot: int) -> int:
        """How many slots after ``slot`` were skipped."""
        statement = select(func.count()).where(
            ScheduleRunRow.schedule_id == schedule_id,
            ScheduleRunRow.slot > slot,
            ScheduleRunRow.state == "skipped",
        )
        async with self.db.sessions() as session:
            return int(await session.scalar(statement) or 0)

    async def runs(self, schedule_id: str) -> list[Run]:
        """The slots ``schedule_id`` ran, oldest first."""
        statement = (
            select(ScheduleRunRow)
            .where(ScheduleRunRow.schedule_id == schedule_id)
            .order_by(ScheduleRunRow.slot)
        )
        async with self.db.sessions() as session:
            return [_run(row) for row in (await session.scalars(statement)).all()]


def _fields(schedule: Schedule | ScheduleRow) -> dict[str, Any]:
    return {field.name: getattr(schedule, field.name) for field in dataclasses.fields(Schedule)}


def _schedule(row: ScheduleRow) -> Schedule:
    return Schedule(**_fields(row))


def _run(r: ScheduleRunRow) -> Run:
    return Run(r.schedule_id, r.slot, r.owner, r.state, r.note, r.claimed_at, r.finished_at)
