"""An MCP server's tool that writes waits for the asker's click like any other: a real stdio
server started by the test, a scripted model over the Anthropic wire format, the real bot and
the sandbox's buttons."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import Text, ToolCalls, ToolUse
from tests.e2e.test_approvals import (
    APPROVE,
    DENY,
    finished_answer,
    prompt_in,
    result_text,
    tool_results,
)
from tests.mcp.servers import stdio_entry, write_config


@pytest.fixture
def bot_options(tmp_path) -> dict:
    servers = {"wiki": stdio_entry(tools=["delete_page"], risk="write")}
    return {"mcp_config": write_config(tmp_path, servers)}


def delete_then_answer(stack) -> None:
    stack.model.script(
        ToolCalls(
            [ToolUse("wiki_delete_page", {"title": "Old runbook"}, id="toolu_del")],
            text="I'll delete that page.",
        ),
        Text("Gone: the old runbook is deleted."),
    )


async def test_an_mcp_write_tool_waits_for_approval_and_then_runs_once(stack) -> None:
    delete_then_answer(stack)
    asked = stack.mention("delete the old runbook page")
    prompt = await prompt_in(stack.sandbox, asked["ts"])
    assert "wiki_delete_page" in prompt["text"]
    assert tool_results(stack.model) == []  # nothing ran before the click
    await stack.sandbox.click("alice", "general", prompt["ts"], APPROVE)
    replies = await finished_answer(stack.sandbox, asked["ts"], 3)
    assert replies[-1]["text"] == "Gone: the old runbook is deleted."
    [result] = tool_results(stack.model)
    assert result["tool_use_id"] == "toolu_del"
    assert result_text(result) == "Deleted Old runbook."


async def test_a_denied_mcp_tool_never_runs_and_the_model_is_told(stack) -> None:
    delete_then_answer(stack)
    asked = stack.mention("delete the old runbook page")
    prompt = await prompt_in(stack.sandbox, asked["ts"])
    await stack.sandbox.click("alice", "general", prompt["ts"], DENY)
    await finished_answer(stack.sandbox, asked["ts"], 3)
    [result] = tool_results(stack.model)
    assert "Deleted" not in result_text(result)
