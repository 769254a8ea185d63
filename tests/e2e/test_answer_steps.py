"""Every kind of event the core streams is drawn: tool steps, approvals, plans and progress as
Slack's task timeline while streaming, and as compact lines where chat.update draws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.events import (
    AgentEvent,
    ApprovalNeeded,
    Done,
    Failed,
    Notice,
    PlanStep,
    PlanUpdated,
    Progress,
    Source,
    TextDelta,
    ThinkingDelta,
    ToolFinished,
    ToolStarted,
    Usage,
)
from bot.slack.reply import ReplyTarget, SlackReply

DOCS = Source("Deploy guide", "https://docs.example.com/deploy")


def work() -> list[AgentEvent]:
    return [
        ThinkingDelta("Let me look that up."),
        PlanUpdated((PlanStep("Find the guide", "in_progress"), PlanStep("Answer")), "Deploys"),
        ToolStarted("call-1", "search_docs", {"q": "deploy"}, title="Searching the docs"),
        ToolFinished("call-1", "search_docs", "success", "2 pages", (DOCS,)),
        ApprovalNeeded("call-2", "post_message", {"channel": "ops"}, "write"),
        ToolStarted("call-2", "post_message", {"channel": "ops"}),
        ToolFinished("call-2", "post_message", "denied"),
        Progress("Reading 2 documents…"),
        PlanUpdated((PlanStep("Find the guide", "done"), PlanStep("Answer", "in_progress"))),
        TextDelta("Deploys run "),
        TextDelta("at ten."),
        Notice("Answered from the docs."),
        Usage("claude", 10, 5),
        Done("Claude", Usage("claude", 10, 5)),
    ]


async def events(items: list[AgentEvent]) -> AsyncIterator[AgentEvent]:
    for item in items:
        yield item


@pytest.fixture
def draw(sandbox):
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)

    async def draw_in_thread(items: list[AgentEvent]) -> dict:
        parent = sandbox.post_message("alice", "general", "how do deploys work?")
        target = ReplyTarget("C0GENERAL", parent["ts"], sandbox.team_id, "U0ALICE")
        outcome = await SlackReply(client, target, interval=0.05).draw(events(items))
        [reply] = sandbox.replies("general", parent["ts"], from_bot=True)
        return {"outcome": outcome, "reply": reply}

    return draw_in_thread


async def test_steps_stream_as_slack_tasks(draw) -> None:
    drawn = await draw(work())
    reply = drawn["reply"]
    assert reply["text"] == "Deploys run at ten." and not reply["streaming"]
    tasks = {c["id"]: c for c in reply["chunks"] if c["type"] == "task_update"}
    assert tasks["call-1"]["status"] == "complete" and tasks["call-1"]["output"] == "2 pages"
    assert tasks["call-1"]["sources"] == [{"type": "url", "url": DOCS.url, "text": DOCS.title}]
    assert tasks["call-2"]["status"] == "error" and tasks["call-2"]["output"] == "denied"
    assert tasks["progress"]["status"] == "complete"  # closed when the answer ended
    assert tasks["plan-1"]["status"] == "complete" and tasks["plan-2"]["title"] == "Answer"
    assert {"type": "plan_update", "title": "Deploys"} in reply["chunks"]
    assert "Answered from the docs." in str(reply["blocks"])
    assert "Let me look" not in str(reply)  # reasoning is not part of the answer
    assert drawn["outcome"].status == "done" and drawn["outcome"].model_label == "Claude"


async def test_steps_are_lines_where_chat_update_draws(sandbox, draw) -> None:
    sandbox.configure(disabled_methods=["chat.startStream", "chat.appendStream"])
    reply = (await draw(work()))["reply"]
    markdown = reply["blocks"][0]
    assert markdown["type"] == "markdown"
    lines = markdown["text"].splitlines()
    searched = f"✅ Searching the docs — 2 pages · [{DOCS.title}]({DOCS.url})"
    assert searched in lines
    assert "⚠️ Running post_message — denied" in lines  # approved, run, then refused
    assert "*Deploys*" in lines and "✅ Reading 2 documents…" in lines
    assert lines[-1] == "Deploys run at ten."
    assert "tokens" in str(reply["blocks"])


async def test_a_failed_answer_ends_its_steps_and_its_stream(draw) -> None:
    items = [
        ToolStarted("call-1", "search_docs", {}, title="Searching the docs"),
        TextDelta("Half an answer"),
        Failed("The model stopped answering.", "ref123"),
    ]
    drawn = await draw(items)
    reply = drawn["reply"]
    assert not reply["streaming"] and "(ref `ref123`)" in reply["text"]
    assert [c["status"] for c in reply["chunks"] if c["type"] == "task_update"] == ["error"]
    assert drawn["outcome"].status == "failed" and drawn["outcome"].error_ref == "ref123"


async def test_each_spell_of_thinking_is_a_step_that_ends_when_the_model_moves_on(draw) -> None:
    items = [
        ThinkingDelta("Which guide?"),
        ThinkingDelta(" The deploy one."),
        ToolStarted("call-1", "search_docs", {}, title="Searching the docs"),
        ToolFinished("call-1", "search_docs", "success", "1 page"),
        ThinkingDelta("It says ten."),
        TextDelta("Deploys run at ten."),
        Done("Claude", Usage("claude", 10, 5)),
    ]
    reply = (await draw(items))["reply"]
    steps = [(c["id"], c["title"], c["status"]) for c in reply["chunks"] if "status" in c]
    assert steps == [
        ("thinking-1", "Thinking…", "complete"),
        ("call-1", "Searching the docs", "complete"),
        ("thinking-2", "Thinking…", "complete"),
    ]
    assert "Which guide" not in str(reply) and "It says ten" not in str(reply)
    assert "show_reasoning" not in str(reply["blocks"])  # nowhere kept: no button


async def test_a_quick_tool_is_drawn_once_it_has_ended(sandbox) -> None:
    """A tool that ends a few milliseconds after it started is first drawn as done, in one
    call: the step is not drawn while the answer's next model request is being sent."""

    async def quick_tool_then_text() -> AsyncIterator[AgentEvent]:
        yield ToolStarted("call-1", "search_docs", {}, title="Searching the docs")
        await asyncio.sleep(0.005)  # the tool runs
        yield ToolFinished("call-1", "search_docs", "success", "1 page")
        await asyncio.sleep(0.3)  # the model reads the result
        yield TextDelta("Deploys run at ten.")
        yield Done("Claude", Usage("claude", 10, 5))

    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    parent = sandbox.post_message("alice", "general", "how do deploys work?")
    target = ReplyTarget("C0GENERAL", parent["ts"], sandbox.team_id, "U0ALICE")
    await SlackReply(client, target, interval=0.05).draw(quick_tool_then_text())
    [first, *_] = [c for c in sandbox.calls() if c["method"].startswith("chat.")]
    assert first["method"] == "chat.startStream"
    tasks = [c for c in first["args"]["chunks"] if c["type"] == "task_update"]
    assert [(t["id"], t["status"]) for t in tasks] == [("call-1", "complete")]
