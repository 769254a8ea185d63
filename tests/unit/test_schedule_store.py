"""Schedules in the store: each slot is claimed by one process only, however many race for it
(two database handles stand for two replicas), missed slots run once, a cancelled schedule
runs no more."""

from __future__ import annotations

import asyncio

from bot.core.store import Database
from bot.core.store.schedules import ScheduleStore
from bot.core.tasks.recurrence import Recurrence

EVERY_MINUTE = Recurrence(unit="m", count=1)
NOON = 1_796_212_800.0  # 2026-12-02 12:00 UTC


async def test_each_slot_is_claimed_once_across_replicas(db) -> None:
    other = Database(db.url)
    try:
        replicas = [ScheduleStore(db, "replica-a"), ScheduleStore(other, "replica-b")]
        made = [
            await replicas[0].create("T1", "C1", "U1", f"goal {i}", EVERY_MINUTE, "UTC", NOON)
            for i in range(10)
        ]
        for minute in (1, 2, 3):
            now = NOON + 60 * minute
            found = [await store.due(now) for store in replicas]
            claims = [
                store.claim(s, now) for store, due in zip(replicas, found, strict=True) for s in due
            ]
            won = [slot for slot in await asyncio.gather(*claims) if slot is not None]
            assert sorted(won) == [int(now)] * 10
        for schedule in made:
            runs = await replicas[1].runs(schedule.id)
            assert [r.slot for r in runs] == [int(NOON) + 60 * m for m in (1, 2, 3)]
            assert {r.owner for r in runs} <= {"replica-a", "replica-b"}
    finally:
        await other.close()


async def test_slots_missed_while_nothing_ran_run_once(db) -> None:
    store = ScheduleStore(db, "a")
    schedule = await store.create("T1", "C1", "U1", "goal", EVERY_MINUTE, "UTC", NOON)
    back = NOON + 3600 + 30  # an hour down
    [due] = await store.due(back)
    assert await store.claim(due, back) == int(NOON) + 60
    assert await store.due(back) == []
    [moved] = await store.listed("C1")
    assert moved.next_at == NOON + 3660  # the first slot after the restart
    # A process that read the schedule before the move claims nothing.
    assert await store.claim(due, back) is None
    assert [r.slot for r in await store.runs(schedule.id)] == [int(NOON) + 60]


async def test_a_cancelled_schedule_is_not_due_and_its_slot_cannot_be_claimed(db) -> None:
    store = ScheduleStore(db, "a")
    schedule = await store.create("T1", "C1", "U1", "goal", EVERY_MINUTE, "UTC", NOON)
    assert await store.cancel(schedule, "U1")
    assert not await store.cancel(schedule, "U1")
    assert await store.due(NOON + 120) == []
    assert await store.claim(schedule, NOON + 120) is None
    assert await store.listed("C1") == []
    assert (await store.get(schedule.short_id)).cancelled_by == "U1"  # type: ignore[union-attr]
    assert await store.runs(schedule.id) == []
