"""Writes asked for while one waits for its transaction go in that one; a failure reaches
every caller of its batch, and the next batch is written as usual."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.core.batches import Batches


class Table:
    def __init__(self) -> None:
        self.writes: list[list[str]] = []
        self.gate = asyncio.Event()
        self.fail_next = False

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[str]:
        await self.gate.wait()  # the database's one writer is busy until the gate opens
        yield "transaction"

    async def write(self, transaction: str, items: list[str]) -> list[str]:
        assert transaction == "transaction"
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the database went away")
        self.writes.append(items)
        return [item.upper() for item in items]


async def test_what_comes_while_a_write_waits_goes_in_it() -> None:
    table = Table()
    batches = Batches(table.turn, table.write)
    asked = [batches.put(name) for name in ("a", "b", "c")]
    await asyncio.sleep(0)
    table.gate.set()
    assert await asyncio.gather(*asked) == ["A", "B", "C"]
    assert table.writes == [["a", "b", "c"]]
    assert await batches.put("d") == "D"  # a lone one is written at once, on its own
    assert table.writes[-1] == ["d"]


async def test_a_failed_write_reaches_each_of_its_callers_and_the_next_goes_on() -> None:
    table = Table()
    table.gate.set()
    table.fail_next = True
    batches = Batches(table.turn, table.write)
    first, second = batches.put("a"), batches.put("b")
    for asked in (first, second):
        with pytest.raises(RuntimeError, match="went away"):
            await asked
    assert await batches.put("c") == "C"
    assert table.writes == [["c"]]


async def test_a_lingering_batch_waits_for_company_while_requests_are_coming() -> None:
    """Without linger a lone put is written at once, alone. With it, a put that comes soon
    after another waits for company, and one a moment later goes in the same write; a put
    after a quiet spell longer than the linger is written at once."""
    prompt, lingering = Table(), Table()
    prompt.gate.set()
    lingering.gate.set()
    at_once = Batches(prompt.turn, prompt.write)
    patient = Batches(lingering.turn, lingering.write, linger=0.5)
    assert await patient.put("first") == "FIRST"  # nothing came before it: not held back
    first = [at_once.put("a"), patient.put("a")]
    await asyncio.sleep(0)
    second = [at_once.put("b"), patient.put("b")]
    assert await asyncio.gather(*first, *second) == ["A", "A", "B", "B"]
    assert prompt.writes == [["a"], ["b"]]
    assert lingering.writes == [["first"], ["a", "b"]]
    await asyncio.sleep(0.6)  # quiet for longer than the linger
    alone = patient.put("c")
    await asyncio.sleep(0)
    assert alone.done() and lingering.writes[-1] == ["c"]


async def test_while_requests_keep_coming_the_batch_behind_a_write_lingers_too() -> None:
    """What comes while a lingering batch is written waits for company in its turn, so a
    steady stream is written a few at a time rather than every other one alone."""
    table = Table()
    table.gate.set()
    writing, finish = asyncio.Event(), asyncio.Event()

    async def slow_write(transaction: str, items: list[str]) -> list[str]:
        if items[0] == "a":
            writing.set()
            await finish.wait()
        return await table.write(transaction, items)

    batches = Batches(table.turn, slow_write, linger=0.5)
    assert await batches.put("first") == "FIRST"
    first = [batches.put("a")]
    await asyncio.sleep(0.1)
    first.append(batches.put("a2"))
    await writing.wait()
    behind = [batches.put("b")]  # came while ["a", "a2"] is being written
    finish.set()
    await asyncio.sleep(0.1)
    behind.append(batches.put("c"))
    assert await asyncio.gather(*first, *behind) == ["A", "A2", "B", "C"]
    assert table.writes == [["first"], ["a", "a2"], ["b", "c"]]
