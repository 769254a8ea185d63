"""Hundreds of writes at once on a SQLite file take turns in the process and all succeed.

The real stores on a real SQLite file (WAL, as the bot runs it): a burst like 300 answers
arriving together, each claimed by two replicas' stores in this process, joining its thread,
noting its posted message and its usage beside the answer, while durable runs adopt claims
(a read, then a write, in one transaction) and a channel's memory grows note by note.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import event, func, select

from bot.core.conversation import Scope
from bot.core.events import Usage
from bot.core.memory.store import MemoryStore
from bot.core.store import ChannelSettings, ClaimOutcome, ClaimStore, ThreadStore, UsageLog
from bot.core.store.schema import ClaimRow, MemoryNoteRow, ThreadRow, UsageRow
from bot.slack.side_writes import SideWrites
from bot.testkit.databases import fresh_sqlite

ANSWERS = 300


@pytest.fixture
async def sqlite_db(tmp_path):
    async with fresh_sqlite(tmp_path) as db:
        yield db


async def test_hundreds_of_claims_and_side_writes_at_once_all_succeed(sqlite_db, caplog) -> None:
    db = sqlite_db
    replicas = [ClaimStore(db, "replica-a"), ClaimStore(db, "replica-b")]
    threads, usage, memory = ThreadStore(db), UsageLog(db), MemoryStore(db)
    side_writes = SideWrites()

    async def answer(n: int) -> list[ClaimOutcome]:
        key = f"event:Ev{n}"
        claims = await asyncio.gather(*(replica.claim(key) for replica in replicas))
        for claim, replica in zip(claims, replicas, strict=True):
            if claim.acquired:
                writes = side_writes.for_answer()
                writes.start("join the thread", lambda: threads.join("C1", f"{n}.000100"))
                writes.replace(
                    "note the posted messages",
                    lambda c=claim, r=replica: r.record_replies(c, "C1", [f"{n}.000200"]),
                )
                await usage.record(
                    Scope("T1", "C1", "public", f"{n}.000100", "U1"),
                    Usage("claude-haiku-4-5", input_tokens=1, output_tokens=1),
                    "done",
                )
                await writes.wait()
                await replica.finish(claim)
        return [claim.outcome for claim in claims]

    async def adopt(n: int) -> ClaimOutcome:
        return (await ClaimStore(db, "durable").adopt(f"event:Run{n}")).outcome

    async def remember(n: int) -> None:
        await memory.write("C1", f"/memories/note-{n}.md", f"note {n}", "U1", new=True)

    with caplog.at_level(logging.WARNING):
        outcomes, adopted, _ = await asyncio.gather(
            asyncio.gather(*(answer(n) for n in range(ANSWERS))),
            asyncio.gather(*(adopt(n) for n in range(ANSWERS // 3))),
            asyncio.gather(*(remember(n) for n in range(ANSWERS // 3))),
        )

    assert [sorted(o, key=lambda x: x.value) for o in outcomes] == [
        [ClaimOutcome.DUPLICATE, ClaimOutcome.NEW]
    ] * ANSWERS  # each answer decided exactly once
    assert adopted == [ClaimOutcome.NEW] * (ANSWERS // 3)
    assert not [r for r in caplog.records if r.name.startswith("teammate")]  # no failed write
    async with db.sessions() as session:
        done = await session.scalar(
            select(func.count()).select_from(ClaimRow).where(ClaimRow.state == "done")
        )
        noted = await session.scalar(
            select(func.count()).select_from(ClaimRow).where(ClaimRow.reply_ts != "[]")
        )
        joined = await session.scalar(select(func.count()).select_from(ThreadRow))
        recorded = await session.scalar(select(func.count()).select_from(UsageRow))
        notes = await session.scalar(select(func.count()).select_from(MemoryNoteRow))
    assert (done, noted, joined, recorded, notes) == (
        ANSWERS,
        ANSWERS,
        ANSWERS,
        ANSWERS,
        ANSWERS // 3,
    )
    for replica in replicas:
        await replica.close()


async def test_reads_go_on_while_a_write_is_open(sqlite_db) -> None:
    db = sqlite_db
    threads = ThreadStore(db)
    await threads.join("C1", "1.000100")
    writing, done = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with db.write() as session:
            session.add(
                ThreadRow(
                    channel="C1",
                    thread_ts="2.000100",
                    team_id="",
                    started_by="",
                    replies=0,
                    created_at=0.0,
                    updated_at=0.0,
                )
            )
            await session.flush()
            writing.set()
            await done.wait()

    writer = asyncio.create_task(long_write())
    await writing.wait()
    # Neither the process's write lock nor SQLite's stops a read; it sees what was committed.
    assert await threads.is_member("C1", "1.000100")
    assert not await threads.is_member("C1", "2.000100")
    done.set()
    await writer
    assert await threads.is_member("C1", "2.000100")


async def test_writes_waiting_their_turn_hold_no_connection(sqlite_db) -> None:
    """So a read always finds a free connection, however many writes are queued."""
    db = sqlite_db
    threads, usage = ThreadStore(db), UsageLog(db)
    out = peak = 0

    def checkout(*_: object) -> None:
        nonlocal out, peak
        out += 1
        peak = max(peak, out)

    def checkin(*_: object) -> None:
        nonlocal out
        out -= 1

    pool = db.engine.sync_engine.pool
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    scope = Scope("T1", "C1", "public", "1.000100", "U1")
    await asyncio.gather(
        *(threads.join("C1", f"{n}.000100") for n in range(ANSWERS)),
        *(usage.record(scope, Usage("m", 1, 1), "done") for _ in range(ANSWERS)),
    )
    assert peak == 1
    assert await usage.totals() == (ANSWERS, ANSWERS, ANSWERS, 0.0)


async def test_answers_asking_the_same_read_at_once_share_it(sqlite_db) -> None:
    db = sqlite_db
    settings = ChannelSettings(db)
    await settings.set_deep("C1", True)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    assert await asyncio.gather(*(settings.deep("C1") for _ in range(50))) == [True] * 50
    assert statements == 1
    # A write in this process ends the sharing: what was written is what the next read sees.
    reading = asyncio.ensure_future(settings.deep("C1"))
    await settings.set_deep("C1", False)
    assert await settings.deep("C1") is False
    await reading
