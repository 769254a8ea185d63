"""Slack retries and crashes never cost an answer and never produce two."""

from __future__ import annotations

import asyncio
import os
import time

from sqlalchemy import update

from bot.core.store.schema import ClaimRow
from bot.testkit.fakes import Text
from bot.testkit.processes import (
    COMPLETE_ANSWER,
    SLOW_ANSWER,
    answer_cut_by_sigkill,
    complete_answer,
    start_serve,
)
from bot.testkit.stack import bot_environment


def mention_event_id(stack_or_sandbox, posted: dict) -> str:
    sandbox = getattr(stack_or_sandbox, "sandbox", stack_or_sandbox)
    for event_id in posted["event_ids"]:
        if sandbox.envelope(event_id)["event"]["type"] == "app_mention":
            return event_id
    raise AssertionError("no app_mention event was delivered")


async def test_same_event_three_times_gives_one_answer(stack) -> None:
    stack.model.script(Text(SLOW_ANSWER, delay=0.01))
    posted = stack.mention("count for me")
    event_id = mention_event_id(stack, posted)
    await stack.sandbox.wait_for(lambda: stack.model.requests)
    during = await stack.sandbox.redeliver(event_id, retry_num=1)  # while answering
    await stack.answer("general", posted["ts"])
    after = await stack.sandbox.redeliver(event_id, retry_num=2, reason="http_error")
    assert during["status"] == 200 and after["status"] == 200
    await stack.sandbox.settle()
    await asyncio.sleep(0.5)
    replies = stack.sandbox.replies("general", posted["ts"], from_bot=True)
    assert len(replies) == 1 and replies[0]["text"].strip() == SLOW_ANSWER
    assert len(stack.model.requests) == 1


async def test_the_running_bot_forgets_claims_a_day_old_on_its_retention_purge(stack) -> None:
    stack.model.script(Text("First."), Text("Second."))
    old, fresh = stack.mention("first question"), stack.mention("second question")
    await stack.answer("general", old["ts"])
    await stack.answer("general", fresh["ts"])
    claims = stack.runtime.services.claims
    old_key, fresh_key = (f"event:{mention_event_id(stack, p)}" for p in (old, fresh))
    for _ in range(500):  # each claim is marked done just after its answer; 10 s at most
        if await claims.state(old_key) == await claims.state(fresh_key) == "done":
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the answers' claims were never marked done")
    async with stack.runtime.db.sessions.begin() as session:
        await session.execute(
            update(ClaimRow)
            .where(ClaimRow.key == old_key)
            .values(created_at=time.time() - 25 * 3600)
        )
    assert (await stack.runtime.retention.purge())["claims"] == 1
    assert await claims.state(old_key) is None
    assert await claims.state(fresh_key) == "done"


async def test_process_killed_mid_answer_then_slack_retry_gives_one_complete_answer(
    sandbox, model, tmp_path
) -> None:
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_CLAIM_LEASE_SECONDS": "1.5",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
    }
    posted, port = await answer_cut_by_sigkill(sandbox, model, env, tmp_path / "bot.log")
    second = await start_serve(env, port, tmp_path / "bot.log")
    try:
        await asyncio.sleep(1.6)  # the dead process's lease runs out
        attempt = await sandbox.redeliver(mention_event_id(sandbox, posted), retry_num=1)
        assert attempt["status"] == 200
        replies = await complete_answer(sandbox, posted["ts"], 15)
        assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
    finally:
        second.terminate()
        second.wait(10)
