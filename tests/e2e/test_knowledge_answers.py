"""A scripted model searches the team's knowledge with `search_knowledge`: the step shows while
it runs, the model gets each hit's title, section, excerpt and source, and the answer ends with
a sources line linking the document — streamed, and where chat.update draws instead; sections
of one document that share its address are linked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeStore, add_paths
from bot.testkit.fakes import Text, ToolCalls, ToolUse

DOCUMENTS = Path(__file__).resolve().parents[1] / "knowledge" / "documents"
ANSWER = "Run `pgctl promote replica-1` from the bastion host, then restart the API pods."
CITED = (
    "<https://wiki.example.com/runbooks/db-failover|Database failover runbook › "
    "Promoting the replica>"
)


@pytest.fixture
async def knowing_stack(stack):
    await add_paths(KnowledgeStore(stack.runtime.db), [DOCUMENTS])
    stack.model.script(
        ToolCalls([ToolUse("search_knowledge", {"query": "promote replica", "limit": 3})]),
        Text(ANSWER),
    )
    return stack


def sources_lines(reply: dict) -> list[str]:
    """The "Sources: …" lines under an answer, as Slack shows them."""
    return [
        element["text"]
        for block in reply["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
        if element.get("text", "").startswith("Sources:")
    ]


def tool_result_sent(stack) -> str:
    """The search_knowledge result as the model received it in its second request."""
    second = [r for r in stack.model.requests if r.path.endswith("/messages")][1]
    blocks = [b for m in second.json["messages"] for b in m["content"] if isinstance(b, dict)]
    [result] = [b for b in blocks if b.get("type") == "tool_result"]
    content = result["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


async def test_streamed_answer_cites_the_section_it_searched(knowing_stack) -> None:
    stack = knowing_stack
    posted = stack.mention("the primary database is down, how do I promote the replica?")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"] == ANSWER
    assert f"Sources: {CITED}" in str(reply["blocks"])
    [task] = [
        c for c in reply["chunks"] if c["type"] == "task_update" and c["status"] == "complete"
    ]
    assert task["title"] == "Searching the team's knowledge for “promote replica”"
    assert task["output"].endswith("found")
    link = "https://wiki.example.com/runbooks/db-failover"
    title = "Database failover runbook › Promoting the replica"
    assert {"type": "url", "url": link, "text": title} in task["sources"]
    sent = tool_result_sent(stack)
    assert "1. Database failover runbook › Promoting the replica" in sent
    assert "**promote**" in sent.lower()
    assert "Source: https://wiki.example.com/runbooks/db-failover" in sent


async def test_chat_update_answer_shows_the_sources_line_too(knowing_stack) -> None:
    stack = knowing_stack
    stack.sandbox.configure(disabled_methods=["chat.startStream", "chat.appendStream"])
    posted = stack.mention("how do I promote the replica?")
    [reply] = await stack.answer("general", posted["ts"])
    markdown = reply["blocks"][0]["text"]
    assert markdown.endswith(ANSWER)
    assert "✅ Searching the team's knowledge for “promote replica”" in markdown
    assert f"Sources: {CITED}" in str(reply["blocks"][1:])


async def test_a_search_that_finds_nothing_says_so_and_cites_nothing(stack) -> None:
    stack.model.script(
        ToolCalls([ToolUse("search_knowledge", {"query": "quarterly zebra census"})]),
        Text("I found nothing about that."),
    )
    posted = stack.mention("what did the zebra census say?")
    [reply] = await stack.answer("general", posted["ts"])
    assert "Sources:" not in str(reply["blocks"])
    assert "No section of the team's documents matches" in tool_result_sent(stack)


async def test_sections_of_one_document_are_one_source(stack) -> None:
    await add_paths(KnowledgeStore(stack.runtime.db), [DOCUMENTS])
    stack.model.script(
        ToolCalls([ToolUse("search_knowledge", {"query": "promote replica"}, id="toolu_1")]),
        ToolCalls([ToolUse("search_knowledge", {"query": "primary replica"}, id="toolu_2")]),
        Text(ANSWER),
    )
    posted = stack.mention("the primary is down: how do I promote the replica, and then what?")
    [reply] = await stack.answer("general", posted["ts"])
    last = [r for r in stack.model.requests if r.path.endswith("/messages")][-1]
    results = [
        block["content"]
        for message in last.json["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]
    second = str(results[-1])
    assert "Database failover runbook › Promoting the replica" in second
    assert "Database failover runbook › After the failover" in second  # two sections, one page
    link = "https://wiki.example.com/runbooks/db-failover"
    [line] = sources_lines(reply)
    assert line.startswith(f"Sources: {CITED}") and line.count(link) == 1
    steps = {c["id"]: c for c in reply["chunks"] if c["type"] == "task_update"}
    for call_id in ("toolu_1", "toolu_2"):
        assert [source["url"] for source in steps[call_id]["sources"]] == [link]
