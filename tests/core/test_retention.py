"""Reasoning summaries past their retention are purged at start and then periodically, on
SQLite and PostgreSQL; a purge that fails is logged and never stops anything."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import update

from bot.core.retention import Retention
from bot.core.store import ReasoningStore
from bot.core.store.schema import ReasoningRow

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
