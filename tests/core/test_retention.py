"""Reasoning summaries and claims past their retention are purged at start and then
periodically, on SQLite and PostgreSQL; a purge that fails is logged and never stops anything."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import update

from bot.core.retention import Retention
from bot.core.store import ClaimStore, ReasoningStore
from bot.core.store.schema import ClaimRow, ReasoningRow

DAY = 86400


async def _age(store: ReasoningStore, reasoning_id: str, days: float) -> None:
    async with store.db.sessions.begin() as session:
        await session.execute(
            update(ReasoningRow)
            .where(ReasoningRow.id == reasoning_id)
            .values(created_at=time.time() - days * DAY)
        )


async def test_purge_deletes_only_what_is_past_its_days(db) -> None:
    store = ReasoningStore(db, keep_days=30)
    for name in ("fresh", "old", "almost"):
        await store.save(name, channel="C1", text=f"{name} thoughts")
    await _age(store, "old", 31)
    await _age(store, "almost", 29)
    assert await store.purge() == 1
    assert await store.get("old", "C1") is None
    assert (await store.get("almost", "C1")).text == "almost thoughts"
    assert (await store.get("fresh", "C1")).text == "fresh thoughts"
    assert await store.purge() == 0  # nothing twice


async def test_retention_purges_at_start_then_keeps_purging(db) -> None:
    store = ReasoningStore(db, keep_days=1)
    await store.save("before", channel="C1", text="t")
    await _age(store, "before", 2)
    retention = Retention({"reasoning": store.purge}, every=0.05)
    await retention.start()
    try:
        assert await store.get("before", "C1") is None  # gone once start returned
        await store.save("later", channel="C1", text="t")
        await _age(store, "later", 2)
        for _ in range(500):  # a few rounds of 0.05 s at most; 10 s before giving up
            if await store.get("later", "C1") is None:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the periodic purge never ran")
    finally:
        await retention.stop()


async def test_claims_past_a_day_go_on_a_purge_and_fresh_ones_stay(db) -> None:
    claims = ClaimStore(db, "replica-a")
    for key in ("event:old", "event:almost", "event:fresh"):
        await claims.finish(await claims.claim(key))
    await claims.claim("event:dead")  # its owner died long ago: the lease ran out
    await claims.claim("event:long-task")  # still held, its lease renewed
    ages = {"event:old": 25, "event:almost": 23, "event:dead": 48, "event:long-task": 48}
    for key, hours in ages.items():
        lease = {"lease_until": time.time() - 3600} if key == "event:dead" else {}
        async with db.sessions.begin() as session:
            await session.execute(
                update(ClaimRow)
                .where(ClaimRow.key == key)
                .values(created_at=time.time() - hours * 3600, **lease)
            )
    retention = Retention({"claims": claims.purge})
    assert await retention.purge() == {"claims": 2}
    assert await claims.state("event:old") is None
    assert await claims.state("event:dead") is None
    assert await claims.state("event:long-task") == "running"
    assert await claims.state("event:almost") == "done"
    assert await claims.state("event:fresh") == "done"
    assert await retention.purge() == {"claims": 0}


async def test_a_failing_purge_is_logged_and_the_others_still_run(caplog) -> None:
    ran: list[str] = []

    async def broken() -> int:
        raise RuntimeError("database away")

    async def fine() -> int:
        ran.append("fine")
        return 3

    retention = Retention({"reasoning": broken, "other": fine})
    assert await retention.purge() == {"other": 3}
    assert ran == ["fine"]
    assert "purging old reasoning failed" in caplog.text
