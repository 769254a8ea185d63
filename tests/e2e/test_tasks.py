"""`/task` over real HTTP: the card in the channel, the work in its thread with the checklist
ticking on the card, the report for the requester, budgets, and list/show/cancel."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.testkit.fakes.script import Dynamic, Hang, Status, Text, ToolCalls, ToolUse

STEPS = ("Read the incidents", "Compare with last week", "Write the summary")


def plan(*statuses: str) -> ToolCalls:
    steps = [{"title": t, "status": s} for t, s in zip(STEPS, statuses, strict=True)]
    return ToolCalls(
        [ToolUse("update_plan", {"steps": steps})], delay=0.1
    )  # each step shows: card updates are paced (Tier 3)


THREE_STEPS = (
    plan("in_progress", "pending", "pending"),
    plan("done", "in_progress", "pending"),
    plan("done", "done", "in_progress"),
    plan("done", "done", "done"),
    Text("All three steps are done: 2 incidents, both fixed. Sources: the incident log."),
)


def card_of(sandbox, short_id: str) -> dict:
    [card] = [
        m
        for m in sandbox.channel_messages("general")
        if m.get("bot_id") and f"`{short_id}`" in m["text"]
    ]
    return card


async def start_task(stack, text: str, user: str = "alice") -> str:
    """Run `/task text`; the short id its card shows."""
    sandbox = stack.sandbox
    result = await sandbox.run_command(user, "general", "/task", text)
    assert result["status"] == 200 and not result["failed"], result

    def posted() -> str | None:
        for message in sandbox.channel_messages("general"):
            found = re.search(r"Task `(\w{6})`", message.get("text", ""))
            if message.get("bot_id") and found and text.split()[-1] in message["text"]:
                return found.group(1)
        return None

    return await sandbox.wait_for(posted, 10)


async def ended(stack, short_id: str, within: float = 20.0) -> dict:
    """The card once it shows the task ended, with the thread's closing line posted."""
    sandbox = stack.sandbox

    def closing() -> dict | None:
        card = card_of(sandbox, short_id)
        replies = sandbox.replies("general", card["ts"], from_bot=True)
        if any(f"task `{short_id}`" in r["text"] for r in replies):
            if any(label in card["text"] for label in ("Done", "Stopped", "Failed", "Interrupted")):
                return {"card": card, "replies": replies}
        return None

    return await sandbox.wait_for(closing, within)


async def test_a_three_step_task_ticks_its_card_and_reports_to_the_requester(stack) -> None:
    stack.model.script(*THREE_STEPS)
    short_id = await start_task(stack, "summarise this week's incidents")
    end = await ended(stack, short_id)
    card, replies = end["card"], end["replies"]
    assert "✅ Done" in card["text"]
    drawn = [str(c["args"].get("blocks")) for c in stack.sandbox.calls("chat.update")]
    card_updates = [b for b in drawn if f"`{short_id}`" in b]
    for ticked in (
        "▶️ Read the incidents",
        "✅ Read the incidents\\n▶️ Compare with last week",
        "✅ Compare with last week\\n▶️ Write the summary",
        "✅ Write the summary",
    ):
        assert any(ticked in update for update in card_updates), (ticked, card_updates)
    assert "3/3 steps" in str(card["blocks"]) and "tokens" in str(card["blocks"])
    answer, closing = replies[0], replies[-1]
    assert "All three steps are done" in answer["text"]
    assert closing["text"].startswith(f"<@U0ALICE> task `{short_id}` is done.")
    assert "Not done" not in closing["text"]
    # The streaming answer showed the plan as Slack's plan display.
    assert answer["task_display_mode"] == "plan"
    chunks = [c for c in answer.get("chunks") or [] if c["type"] == "task_update"]
    assert {c["title"] for c in chunks} >= set(STEPS)
    # The model was told to plan, and offered the plan tool.
    first = stack.model.requests[0].json
    assert "update_plan" in str(first["system"]) and "update_plan" in str(first["tools"])


async def test_a_mention_is_not_a_task_and_has_no_plan_tool(stack) -> None:
    stack.model.script(Text("Ten o'clock."))
    asked = stack.mention("when are deploys?")
    [answer] = await stack.answer("general", asked["ts"])
    assert answer.get("task_display_mode", "timeline") == "timeline"
    body = stack.model.requests[0].json
    assert "update_plan" not in str(body.get("tools")) and "update_plan" not in str(body["system"])


async def test_a_token_budget_stops_the_task_before_it_is_exceeded(stack) -> None:
    # Each request sends the whole conversation again, so the next costs at least the last.
    stack.model.script(*THREE_STEPS)
    short_id = await start_task(stack, "--tokens 3000 summarise this week's incidents")
    end = await ended(stack, short_id)
    card, replies = end["card"], end["replies"]
    used = re.search(r"([\d,]+) of 3,000 tokens", str(card["blocks"]))
    assert used is not None and 0 < int(used.group(1).replace(",", "")) <= 3000, card
    assert 0 < len(stack.model.requests) < len(THREE_STEPS)
    assert "⏹️ Stopped" in card["text"] and "token limit" in str(card["blocks"])
    answer, closing = replies[0], replies[-1]
    assert "token limit (3,000 tokens" in answer["text"] and "partial report" in answer["text"]
    assert "Not done:" in answer["text"]
    assert closing["text"].startswith(f"<@U0ALICE> task `{short_id}` stopped: the token limit")


async def test_options_over_the_caps_and_cost_without_prices_are_refused(stack) -> None:
    said = await stack.sandbox.run_command("alice", "general", "/task", "--tokens 99999999 go")
    assert "at most 2,000,000 tokens" in str(said["body"])
    said = await stack.sandbox.run_command("alice", "general", "/task", "--minutes x go")
    assert "`--minutes` needs a number" in str(said["body"])
    assert not [m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]


async def test_list_show_and_cancel(stack) -> None:
    sandbox = stack.sandbox
    stack.model.script(plan("in_progress", "pending", "pending"), Hang(3.0, Text("late")))
    short_id = await start_task(stack, "summarise this week's incidents")
    await sandbox.wait_for(lambda: len(stack.model.requests) >= 2 or None, 10)

    async def said(user: str, text: str) -> str:
        before = len(sandbox.ephemeral(user, "general"))
        result = await sandbox.run_command(user, "general", "/task", text)
        assert result["status"] == 200, result
        notes = await sandbox.wait_for(
            lambda: sandbox.ephemeral(user, "general")[before:] or None, 10
        )
        return notes[-1]["text"]

    listed = await said("alice", "list")
    assert f"`{short_id}` ▶️ Working · summarise this week's incidents" in listed
    shown = await said("alice", f"show {short_id}")
    assert "▶️ Read the incidents" in shown and "0/3 steps" in shown
    refused = await said("bob", f"cancel {short_id}")
    assert "Only <@U0ALICE> or an admin" in refused
    cancelled = await said("alice", f"cancel {short_id}")
    assert "stops at its next step" in cancelled
    end = await ended(stack, short_id)
    assert "⏹️ Stopped" in end["card"]["text"]
    assert end["replies"][-1]["text"].startswith(
        f"<@U0ALICE> task `{short_id}` stopped: cancelled by <@U0ALICE>"
    )
    assert f"`{short_id}` ⏹️ Stopped" in await said("alice", "list")
    assert "There is no task `zzzzzz`" in await said("alice", "show zzzzzz")


@pytest.mark.parametrize("text", ["task: summarise this week's incidents"])
async def test_task_in_a_mention_starts_a_task(stack, text) -> None:
    stack.model.script(*THREE_STEPS)
    stack.mention(text)

    def card() -> str | None:
        for message in stack.sandbox.channel_messages("general"):
            found = re.search(r"Task `(\w{6})`", message.get("text", ""))
            if message.get("bot_id") and found:
                return found.group(1)
        return None

    short_id = await stack.sandbox.wait_for(card, 10)
    end = await ended(stack, short_id)
    assert "✅ Done" in end["card"]["text"]


async def test_a_task_that_fails_says_so_on_its_card_with_a_reference(stack) -> None:
    stack.model.script(Status(400, error_type="invalid_request_error", message="secret detail"))
    short_id = await start_task(stack, "summarise this week's incidents")
    end = await ended(stack, short_id)
    card, closing = end["card"], end["replies"][-1]
    ref = re.search(r"ref `(\w+)`", str(card["blocks"]))
    assert "⚠️ Failed" in card["text"] and ref is not None
    assert closing["text"].startswith(f"<@U0ALICE> task `{short_id}` failed (ref `{ref.group(1)}`)")
    # It says why: the failure's short message, as the answer's note in the thread has it.
    why = re.match(r".* failed \(ref `\w+`\): (.+?)\.?$", closing["text"].splitlines()[0])
    assert why is not None and why.group(1) in end["replies"][0]["text"], closing["text"]
    assert "secret detail" not in str(end)


@pytest.mark.parametrize("bot_options", [{"max_tasks": 1}])
async def test_tasks_beyond_the_limit_wait_in_the_queue(stack) -> None:
    go_on = asyncio.Event()

    async def when_let_go(body: dict) -> Text:
        await go_on.wait()
        return Text("First done.")

    stack.model.script(Dynamic(when_let_go), Text("Second done."))
    first = await start_task(stack, "summarise alpha")
    await stack.sandbox.wait_for(lambda: stack.model.requests or None, 10)
    second = await start_task(stack, "summarise beta")
    assert "⏳ Queued" in card_of(stack.sandbox, second)["text"]
    assert len(stack.model.requests) == 1  # the second waits for the first
    go_on.set()
    assert "✅ Done" in (await ended(stack, first))["card"]["text"]
    assert "✅ Done" in (await ended(stack, second))["card"]["text"]


@pytest.mark.parametrize("bot_options", [{"model": "anthropic:claude-not-in-the-catalog"}])
async def test_a_cost_limit_is_refused_for_a_model_without_prices(stack) -> None:
    said = await stack.sandbox.run_command("alice", "general", "/task", "--cost 1 go")
    assert "`--cost` needs the model's prices" in str(said["body"])
    assert not [m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]


async def test_a_cost_limit_is_shown_on_the_card_for_a_priced_model(stack) -> None:
    stack.model.script(Text("Done."))
    short_id = await start_task(stack, "--cost 0.50 summarise this week's incidents")
    end = await ended(stack, short_id)
    assert re.search(r"\$0\.\d+ of \$0\.50", str(end["card"]["blocks"]))


async def test_a_cost_budget_stops_the_task_before_it_is_exceeded(stack) -> None:
    stack.model.script(*THREE_STEPS)
    short_id = await start_task(stack, "--cost 0.003 summarise this week's incidents")
    end = await ended(stack, short_id)
    spent = re.search(r"\$([\d.]+) of \$0\.003", str(end["card"]["blocks"]))
    assert spent is not None and 0 < float(spent.group(1)) <= 0.003, end["card"]
    assert "stopped: the cost limit ($0.003" in end["replies"][-1]["text"]


@pytest.mark.parametrize("bot_options", [{"durable_answers": True}])
async def test_a_task_runs_as_a_durable_answer_when_answers_are(stack) -> None:
    assert stack.runtime.services.durable is not None
    stack.model.script(*THREE_STEPS)
    short_id = await start_task(stack, "summarise this week's incidents")
    end = await ended(stack, short_id)
    assert "✅ Done" in end["card"]["text"] and "3/3 steps" in str(end["card"]["blocks"])


async def test_a_time_budget_stops_the_task_at_the_next_step(stack) -> None:
    # --minutes 0.02 is 1.2 s; the first step alone takes longer (its reply is paced).
    stack.model.script(*THREE_STEPS)
    short_id = await start_task(stack, "--minutes 0.02 summarise this week's incidents")
    end = await ended(stack, short_id)
    assert len(stack.model.requests) == 1
    assert "⏹️ Stopped" in end["card"]["text"]
    assert "stopped: the time limit (0.02 minutes)" in end["replies"][-1]["text"]
    assert "Not done: Read the incidents; Compare with last week" in end["replies"][-1]["text"]
