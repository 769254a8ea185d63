"""What keeping a long run inside its window costs each model request (bot.core.compaction).

Before every model request :class:`~bot.core.compaction.ContextKeeper` estimates the request's
tokens; past the mark it clears old tool results. This times both on histories of 50, 500 and
2,000 tool calls with 1,700-character results (the largest is about a million tokens, a full
Claude window): the check under the mark (nothing to do), and a round of clearing from 70 % to
50 %. Beside each, in the same run, what every request pays anyway on that history: pydantic-ai
serialising it to JSON (``ModelMessagesTypeAdapter.dump_json``), as a ratio. Last, the event
loop's longest stall while a round of clearing runs, called in the loop and through
``asyncio.to_thread`` as the keeper calls it (a 1 ms ticker measures the stall).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial

from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from bench.report import Result, Row, to_text
from bench.stats import percentile
from bot.core.compaction import CLEAR_AT, CLEAR_TO, compact, message_tokens

SIZES = (50, 500, 2_000)
RESULT_CHARS = 1_700
REPEATS = 9


def history(calls: int) -> list[ModelMessage]:
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart("Read every page.")])]
    for n in range(calls):
        messages.append(ModelResponse(parts=[ToolCallPart("read_page", {"page": n}, f"c{n}")]))
        text = f"page {n}: " + "the pager fired and nothing was found. " * (RESULT_CHARS // 39)
        messages.append(ModelRequest(parts=[ToolReturnPart("read_page", text, f"c{n}")]))
    return messages


def timed_ms(call: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return percentile(times, 50)


async def longest_stall_ms(work: Callable[[], object], in_thread: bool) -> float:
    """The longest gap between ticks of a 1 ms ticker while ``work`` runs."""
    gaps: list[float] = []
    running = True

    async def ticker() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append((now - last) * 1000)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    if in_thread:
        await asyncio.to_thread(work)
    else:
        work()
    await asyncio.sleep(0.01)
    running = False
    await ticking
    return max(gaps)


async def run() -> Result:
    began = time.perf_counter()
    result = Result(
        "Keeping a long run inside its window",
        f"histories of tool calls with {RESULT_CHARS:,}-character results; median of {REPEATS} "
        "runs; in brackets the same history serialised to JSON by pydantic-ai, as every "
        "request does, and the ratio to it",
    )
    for calls in SIZES:
        messages = history(calls)
        tokens = message_tokens(messages)
        limit, target = int(tokens * CLEAR_AT), int(tokens * CLEAR_TO)
        serialise = timed_ms(partial(ModelMessagesTypeAdapter.dump_json, messages))
        check = timed_ms(partial(compact, messages, limit=tokens * 2, target=tokens))
        clearing = timed_ms(partial(compact, messages, limit=limit, target=target))
        for what, ms in (("check under the mark", check), ("a round of clearing", clearing)):
            result.rows.append(
                Row(
                    f"{calls:,} calls (about {tokens:,} tokens): {what}",
                    f"{ms:.1f} ms ({serialise:.1f} ms; {ms / serialise:.2f}x)",
                )
            )
    messages = history(SIZES[-1])
    tokens = message_tokens(messages)

    def clear_round() -> object:
        return compact(messages, limit=int(tokens * CLEAR_AT), target=int(tokens * CLEAR_TO))

    for in_thread in (False, True):
        stall = await longest_stall_ms(clear_round, in_thread)
        where = "through asyncio.to_thread (as the keeper runs it)" if in_thread else "in the loop"
        result.rows.append(
            Row(
                f"longest event-loop stall, a round on {SIZES[-1]:,} calls, {where}",
                f"{stall:.0f} ms",
            )
        )
    result.seconds = time.perf_counter() - began
    return result


if __name__ == "__main__":
    print(to_text(asyncio.run(run())))
