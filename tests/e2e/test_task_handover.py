"""The model hands a mention over as a task (``start_task``), over real HTTP: the card in the
channel, the task's work and report in its thread, and the mention's answer naming the task.
A task's own run, and an answer in a DM, are not offered the tool."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from bot.core.conversation import Scope
from bot.core.store import ClaimStore
from bot.core.tasks.handover import Handover, Refused
from bot.slack.task_handover import TaskHandover
from bot.testkit.fakes.script import Dynamic, Reply, Text, ToolCalls, ToolUse
from tests.e2e.test_tasks import ended, plan, start_task

GOAL = "Read every incident thread of this quarter and write one report on their causes"
TASK_REPORT = "Report: 4 incidents, 3 from expired certificates. Sources: the incident threads."


def is_task_run(body: dict) -> bool:
    return "working on a task" in str(body.get("system"))


def tool_names(body: dict) -> set[str]:
    return {tool.get("name") for tool in body.get("tools") or []}


def handed_over(body: dict) -> str | None:
    """The text of the last ``start_task`` result the request sends back, if any."""
    for message in reversed(body["messages"]):
        for part in message["content"] if isinstance(message["content"], list) else []:
            if part.get("type") == "tool_result" and part.get("tool_use_id") == "toolu_hand":
                content = part["content"]
                return content if isinstance(content, str) else json.dumps(content)
    return None


def model_that_hands_over(body: dict) -> Reply:
    """A mention hands its request over, then says what the tool told it; the task plans,
    works and reports."""
    if is_task_run(body):
        if "update_plan" in json.dumps(body["messages"]):
            return Text(TASK_REPORT)
        return plan("done", "done", "done")
    result = handed_over(body)
    if result is None:
        return ToolCalls([ToolUse("start_task", {"goal": GOAL}, id="toolu_hand")])
    short_id = re.search(r"Task `(\w{6})`", result)
    assert short_id is not None, result
    return Text(f"I've started task `{short_id.group(1)}`: follow it in the card's thread.")


def task_card(sandbox) -> str | None:
    for message in sandbox.channel_messages("general"):
        found = re.search(r"Task `(\w{6})`", message.get("text", ""))
        if message.get("bot_id") and found:
            return found.group(1)
    return None


@pytest.mark.parametrize("bot_options", [{"durable_answers": False}, {}], ids=["plain", "durable"])
async def test_a_mention_handed_over_as_a_task_gets_a_card_and_a_report(stack) -> None:
    stack.model.default = Dynamic(model_that_hands_over)
    asked = stack.mention("go through this quarter's incidents and write up the causes")
    short_id = await stack.sandbox.wait_for(lambda: task_card(stack.sandbox), 15)
    # The mention's answer names the task the model started.
    [answer] = await stack.answer("general", asked["ts"])
    assert f"I've started task `{short_id}`" in answer["text"]
    # The task works in its card's thread and reports to the person who asked.
    end = await ended(stack, short_id, within=30)
    assert "✅ Done" in end["card"]["text"] and GOAL in end["card"]["text"]
    texts = [reply["text"] for reply in end["replies"]]
    assert any(TASK_REPORT in text for text in texts), texts
    assert texts[-1].startswith(f"<@U0ALICE> task `{short_id}` is done.")
    # The mention was offered the tool; the task's own run was not.
    bodies = [request.json for request in stack.model.requests]
    mention_runs = [body for body in bodies if not is_task_run(body)]
    task_runs = [body for body in bodies if is_task_run(body)]
    assert mention_runs and task_runs
    assert all("start_task" in tool_names(body) for body in mention_runs)
    assert all("start_task" not in tool_names(body) for body in task_runs)
    assert all("update_plan" in tool_names(body) for body in task_runs)
    # The tool told the model where the task runs.
    assert "the thread of its card" in str(handed_over(mention_runs[-1]))


async def test_a_task_started_with_the_command_is_not_offered_the_tool(stack) -> None:
    stack.model.script(plan("done", "done", "done"), Text("Done."))
    short_id = await start_task(stack, "summarise this week's incidents")
    await ended(stack, short_id)
    tools = [tool_names(request.json) for request in stack.model.requests]
    assert tools and all("update_plan" in t and "start_task" not in t for t in tools)


async def test_an_answer_in_a_direct_message_is_not_offered_the_tool(stack) -> None:
    stack.model.script(Text("Ten o'clock."))
    dm = stack.sandbox.ws.dm_for("U0ALICE").id
    asked = stack.sandbox.post_message("alice", dm, "when are deploys?")
    await stack.answer(dm, asked["ts"])
    [request] = stack.model.requests
    assert "read_thread" in tool_names(request.json)
    assert "start_task" not in tool_names(request.json)


def handover(stack, key: str, **options) -> Handover:
    channel = stack.sandbox.ws.find_channel("general")
    scope = Scope(stack.sandbox.team_id, channel.id, "public", "", "U0ALICE")
    return Handover(key, scope, GOAL, **options)


def starter(stack) -> TaskHandover:
    """The Slack side of the tool over the running bot's services, as the app installs it."""
    desk = TaskHandover()
    desk.install(stack.runtime.services, stack.runtime.app.client)
    return desk


async def test_the_same_call_made_again_finds_its_task_instead_of_starting_another(stack) -> None:
    stack.model.script(plan("done", "done", "done"), Text("Done."))
    desk = starter(stack)
    first = await desk.start(handover(stack, "handover:event:Ev1:toolu_1"))
    again = await desk.start(handover(stack, "handover:event:Ev1:toolu_1"))
    assert not first.again and again.again and again.short_id == first.short_id
    assert "the thread of its card in this channel (http" in first.where
    await ended(stack, first.short_id)
    cards = [m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]
    assert len(cards) == 1


async def test_a_budget_over_the_cap_is_refused_with_the_line_the_model_reads(stack) -> None:
    with pytest.raises(Refused, match="at most 2,000,000 tokens"):
        await starter(stack).start(handover(stack, "handover:event:Ev2:toolu_1", tokens=99999999))
    assert not [m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]


async def test_a_call_taken_over_from_a_dead_process_finds_the_task_it_had_posted(stack) -> None:
    services = stack.runtime.services
    key = "handover:event:Ev3:toolu_1"
    dead = ClaimStore(stack.runtime.db, "dead-process", lease_seconds=0.05)
    await dead.claim(key)  # its owner died holding it: nothing renews the lease
    channel = stack.sandbox.ws.find_channel("general").id
    budget = services.tasks.limits.budget()
    posted = await services.tasks.store.create(
        stack.sandbox.team_id, channel, "U0ALICE", GOAL, budget, key=key
    )
    await services.tasks.store.save(posted, card_ts="1700000000.000100", state="running")
    await asyncio.sleep(0.2)
    found = await starter(stack).start(handover(stack, key))
    assert found.again and found.short_id == posted.short_id
    assert await services.claims.state(key) == "done"
    assert not [m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]
    assert not stack.model.requests


async def test_two_calls_with_the_same_goal_get_two_tasks_and_a_replay_finds_its_own(
    stack,
) -> None:
    stack.model.default = Dynamic(model_that_hands_over)
    desk = starter(stack)
    first = await desk.start(handover(stack, "handover:event:Ev4:toolu_1"))
    second = await desk.start(handover(stack, "handover:event:Ev5:toolu_1"))
    assert not second.again and second.short_id != first.short_id
    again = await desk.start(handover(stack, "handover:event:Ev4:toolu_1"))
    assert again.again and again.short_id == first.short_id
    await ended(stack, first.short_id, within=30)
    await ended(stack, second.short_id, within=30)
    assert len([m for m in stack.sandbox.channel_messages("general") if "Task `" in m["text"]]) == 2


async def test_a_call_taken_over_before_its_card_starts_its_own_task(stack) -> None:
    """Another unfinished task with the same goal, from another call, is not this call's."""
    stack.model.default = Dynamic(model_that_hands_over)
    services = stack.runtime.services
    channel = stack.sandbox.ws.find_channel("general").id
    other = await services.tasks.store.create(
        stack.sandbox.team_id, channel, "U0ALICE", GOAL, services.tasks.limits.budget()
    )
    await services.tasks.store.save(other, card_ts="1700000000.000200", state="running")
    key = "handover:event:Ev6:toolu_1"
    await ClaimStore(stack.runtime.db, "dead-process", lease_seconds=0.05).claim(key)
    await asyncio.sleep(0.2)  # its owner died before posting the card: the lease runs out
    started = await starter(stack).start(handover(stack, key))
    assert not started.again and started.short_id != other.short_id
    end = await ended(stack, started.short_id, within=30)
    assert "✅ Done" in end["card"]["text"]
