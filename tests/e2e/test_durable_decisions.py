"""Decisions taken while a durable answer is cut by a crash, or replayed after it, lead to one
continuation, under the answer's first part. A real `teammate serve` is killed with SIGKILL as
the sandbox keeps back Slack's answer to a call (the bot never learns the message was posted)
and started again with the same executor id, the restarted bot's replay held at its first read
of the thread while a person clicks:

- Approve on the prompt the crash cut: the thread shows the answer's first part, the prompt as
  decided, then the resumed part, once each (the resumed part waits for the replay to end);
- "Always allow" on another answer's prompt for the same tool: the cut answer's waiting call is
  approved by it, its replay shows the prompt decided and no buttons, and it goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from bot.slack.render.approval_view import ALWAYS, APPROVE
from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.processes import COMPLETE_ANSWER, complete_answer, serving, start_serve
from tests.e2e.test_approvals import prompt_in
from tests.e2e.test_durable_replays import (
    KILL_WITHIN,
    asks_about,
    killed_when_held,
    pending_approvals,
    prompts_in,
)
from tests.e2e.test_durable_resumes import PAUSED_WORDS, WRITE_TOOL, ledger_environment, write_then

pytestmark = pytest.mark.timeout(300)  # two bot processes in turn, on a shared two-core machine
OTHER_WORDS = "I'll record 41 too."
WRONG_ORDER_CHANCE = 3.0
"""Seconds the held replay leaves a resumed part to (wrongly) start before it, at most."""


def reads_thread(ts: str):
    """Whether a conversations.replies call reads the thread ``ts``."""
    return lambda args: args.get("ts") == ts


def note(entry: str, words: str, call_id: str) -> ToolCalls:
    return ToolCalls([ToolUse(WRITE_TOOL, {"entry": entry}, id=call_id)], words)


async def cut_as_it_asks(sandbox, bot, mention: str, entry: str) -> dict[str, Any]:
    """The mention posted to the running ``bot``, killed once Slack posted its prompt for
    ``entry``."""

    async def ask() -> dict:
        return sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> {mention}")

    return await killed_when_held(sandbox, bot, "chat.postMessage", asks_about(entry), ask)


def asked(model) -> int:
    """How many requests the model was sent."""
    return len([r for r in model.requests if r.path == "/v1/messages"])


async def nothing_resumed_while_held(sandbox, model, requests: int) -> None:
    """Give a resumed part the time to start wrongly, then check it did not ask the model."""
    with contextlib.suppress(TimeoutError):
        await sandbox.wait_for(lambda: asked(model) > requests, WRONG_ORDER_CHANCE)
    assert asked(model) == requests  # the resumed part waits for the replay to end


def decision_shown(sandbox, ts: str, words: str) -> bool:
    return any(
        c["args"].get("ts") == ts and words in str(c["args"].get("text"))
        for c in sandbox.calls("chat.update")
    )


async def test_a_click_on_the_cut_prompt_while_its_answer_replays_goes_on_below_it(
    sandbox, model, tmp_path
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, {})
    write_then(model, Text(COMPLETE_ANSWER))
    log = tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    posted = await cut_as_it_asks(sandbox, bot, "note deploy 42", "deploy 42")
    cut = await prompt_in(sandbox, posted["ts"])
    async with serving(env, port, log):
        with sandbox.holding("conversations.replies", reads_thread(posted["ts"])) as held:
            await held.seen(KILL_WITHIN)  # the replay's clean-up waits for the thread
            before = asked(model)
            click = asyncio.create_task(sandbox.click("alice", "general", cut["ts"], APPROVE))
            await sandbox.wait_for(lambda: decision_shown(sandbox, cut["ts"], "Approved by"), 20)
            await nothing_resumed_while_held(sandbox, model, before)
        await click
        replies = await complete_answer(sandbox, posted["ts"], KILL_WITHIN)
        assert await pending_approvals(env) == []
    assert [r["text"] for r in replies] == [PAUSED_WORDS, replies[1]["text"], COMPLETE_ANSWER]
    assert "Approved by <@U0ALICE>" in replies[1]["text"] and APPROVE not in str(replies[1])
    assert ledger.read_text().splitlines() == ["deploy 42"]


async def test_always_allow_elsewhere_approves_the_call_of_an_answer_a_crash_cut(
    sandbox, model, tmp_path
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, {})
    model.script(
        note("deploy 41", OTHER_WORDS, "toolu_other"),
        note("deploy 42", PAUSED_WORDS, "toolu_write"),
        Text(COMPLETE_ANSWER),
        Text(COMPLETE_ANSWER),
    )
    log = tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    # One answer asks and waits; a second one is cut as Slack posts its prompt.
    other = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> note 41")
    try:
        waiting = await prompt_in(sandbox, other["ts"])
    except BaseException:
        bot.kill()
        raise
    posted = await cut_as_it_asks(sandbox, bot, "note deploy 42", "deploy 42")
    async with serving(env, port, log):
        with sandbox.holding("conversations.replies", reads_thread(posted["ts"])) as held:
            await held.seen(KILL_WITHIN)
            always = sandbox.click("alice", "general", waiting["ts"], ALWAYS)
            click = asyncio.create_task(always)
            await complete_answer(sandbox, other["ts"], KILL_WITHIN)
        await click
        replies = await complete_answer(sandbox, posted["ts"], KILL_WITHIN)
        assert await pending_approvals(env) == []
    assert prompts_in(sandbox, posted["ts"]) == []  # it did not ask again
    assert [r["text"] for r in replies] == [PAUSED_WORDS, replies[1]["text"], COMPLETE_ANSWER]
    assert "always allowed in this channel" in replies[1]["text"]
    assert ledger.read_text().splitlines() == ["deploy 41", "deploy 42"]
