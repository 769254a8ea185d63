"""What Teammate leaves alone: edits, deletions, its own messages, threads it is not in."""

from __future__ import annotations

import asyncio

from bot.testkit.fakes import Text


async def test_edits_deletions_and_its_own_messages_get_no_answer(stack) -> None:
    stack.model.script(Text("First answer."))
    posted = stack.mention("hello")
    await stack.answer("general", posted["ts"])
    follow_up = stack.sandbox.post_message("alice", "general", "typo hre", posted["ts"])
    await stack.answer("general", posted["ts"], count=2)
    stack.sandbox.edit_message("general", follow_up["ts"], "typo here")
    stack.sandbox.delete_message("general", follow_up["ts"])
    stack.sandbox.edit_message("general", posted["ts"], f"<@{stack.sandbox.bot_user_id}> hello!")
    await stack.sandbox.settle()
    await asyncio.sleep(0.5)
    await stack.runtime.tracker.drain(5)
    assert len(stack.model.requests) == 2  # the mention and the follow-up, nothing else
    assert len(stack.sandbox.replies("general", posted["ts"], from_bot=True)) == 2
    events = stack.sandbox.deliveries(kind="event")
    assert len(events) >= 8  # mentions, edits, deletions and Teammate's own posts all arrived
    assert {d["status"] for d in events} == {200}  # and every one was acked


async def test_a_thread_teammate_is_not_in_gets_no_answer(stack) -> None:
    parent = stack.sandbox.post_message("alice", "general", "team lunch friday?")
    stack.sandbox.post_message("bob", "general", "yes please", parent["ts"])
    await stack.sandbox.settle()
    await asyncio.sleep(0.3)
    assert stack.model.requests == []
    assert stack.sandbox.replies("general", parent["ts"], from_bot=True) == []
