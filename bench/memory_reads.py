"""What reading a channel's memory costs each answer, on SQLite and PostgreSQL.

Every answer is briefed on its channel's memory before the model is asked (bot.core.memory
.briefing): a model with tools gets the list of notes, one without them the notes themselves,
cut short. The memory is read from the database each time, never cached, so that replicas see
each other's writes at once. This counts the statements one briefing sends (SQLAlchemy's
``before_cursor_execute`` hook, on the engine the bot uses) and times it, for an empty memory,
a small one, and the fullest a memory may be (100 notes of 10,000 characters), in a public
channel; wall time per call in this process, 300 calls each after 20 to warm up. Beside it,
in the same run, the read it replaced: every note's whole row (``MemoryStore.notes``), which a
model with tools never needed (it is given the paths) and one without only the first 1,200
characters of.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import event

from bench.report import Result, Row, to_text
from bench.stats import percentile
from bot.core.catalog import Catalog
from bot.core.conversation import Conversation, Scope, Turn
from bot.core.memory import ChannelMemory, owner_of
from bot.core.prompts import Prompts
from bot.core.store import Database
from bot.resources import SEEDS_DIR
from bot.testkit.databases import fresh_postgres, fresh_sqlite

CALLS = 300
WARMUP = 20
SIZES = ((0, 0), (10, 500), (100, 10_000))
"""(notes, characters each): none, a few short ones, a memory as full as one may be."""
TARGET_STATEMENTS = 1
SCOPE = Scope("T0BENCH", "C0BENCH", "public", "1.1", "U0ASKER")


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[Database | None]:
    """A fresh migrated database of ``kind`` (None when PostgreSQL is not reachable)."""
    if kind == "SQLite":
        with tempfile.TemporaryDirectory() as folder:
            async with fresh_sqlite(Path(folder)) as db:
                yield db
        return
    async with fresh_postgres(prefix="teammate_bench") as (db, _):
        yield db


async def measure(db: Database, notes: int, size: int, tools: bool) -> dict[str, float]:
    memory = ChannelMemory(db, Prompts.load(SEEDS_DIR / "prompts"))
    spec = replace(Catalog.load(SEEDS_DIR / "models.yml").resolve("fast"), tools=tools)
    scope = replace(SCOPE, channel_id=f"C0BENCH{notes}{'T' if tools else 'N'}")
    for i in range(notes):
        await memory.store.write(owner_of(scope), f"/memories/n{i:03}.md", "x" * size, "U0")
    conversation = Conversation([Turn("user", "what did we decide?")], scope=scope)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    async def brief() -> None:
        await memory.brief(conversation, spec)

    async def whole_rows() -> None:
        await memory.store.notes(owner_of(scope))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await brief()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    now, before = await timed(brief), await timed(whole_rows)
    return {"statements": len(statements), **now, **{f"old_{k}": v for k, v in before.items()}}


async def timed(call: Callable[[], Awaitable[None]]) -> dict[str, float]:
    for _ in range(WARMUP):
        await call()
    times = []
    for _ in range(CALLS):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}


async def run() -> Result:
    began = time.perf_counter()
    result = Result(
        "Reading a channel's memory, per answer",
        "one briefing (the list of notes for a model with tools, the notes cut short for one "
        f"without), {CALLS} calls per case, statements counted on the bot's engine; in "
        "brackets the whole-row read it replaced, timed in the same run",
    )
    for kind in ("SQLite", "PostgreSQL"):
        async with database(kind) as db:
            for notes, size in SIZES:
                for tools in (True, False):
                    case = f"{kind}, {notes} notes of {size:,} chars, " + (
                        "model with tools" if tools else "model without tools"
                    )
                    if db is None:
                        result.rows.append(Row(case, "not run (database not reachable)"))
                        continue
                    figures = await measure(db, notes, size, tools)
                    result.rows.append(
                        Row(
                            f"{case}: statements; p50 / p95 (whole rows: p50 / p95)",
                            f"{figures['statements']:g}; {figures['p50_ms']:.2f} / "
                            f"{figures['p95_ms']:.2f} ms ({figures['old_p50_ms']:.2f} / "
                            f"{figures['old_p95_ms']:.2f} ms)",
                            f"{TARGET_STATEMENTS} statement",
                            figures["statements"] <= TARGET_STATEMENTS,
                        )
                    )
    result.seconds = time.perf_counter() - began
    return result


if __name__ == "__main__":
    print(to_text(asyncio.run(run())))
