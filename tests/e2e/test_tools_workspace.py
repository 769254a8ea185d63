"""The reading tools over real HTTP: a scripted Claude calls read_thread, read_channel and
get_user; the thread shows each step with its outcome while the answer streams (Slack's task
timeline, or a line per step where chat.update draws), and the model reads only what the person
asking may see."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import Text, ToolCalls, ToolUse


def tool_results(request) -> dict[str, dict]:
    """The tool_result blocks a request carried back to the model, by tool_use id."""
    return {
        block["tool_use_id"]: block
        for message in request.json["messages"]
        if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    }


def result_text(block: dict) -> str:
    content = block["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


def tasks(reply: dict) -> dict[str, dict]:
    return {c["id"]: c for c in reply.get("chunks", []) if c["type"] == "task_update"}


def three_reads() -> list:
    return [
        ToolCalls([ToolUse("read_thread", {}, id="toolu_thread")], text="Let me look."),
        ToolCalls([ToolUse("read_channel", {"channel": "C0RANDOM", "limit": 5}, id="toolu_chan")]),
        ToolCalls([ToolUse("get_user", {"user": "U0BOB"}, id="toolu_user")]),
        Text("Bob asked about lunch; he is an SRE in London."),
    ]


async def test_three_reads_show_as_steps_and_the_model_gets_what_they_read(stack) -> None:
    sandbox = stack.sandbox
    sandbox.post_message("bob", "random", "who is up for lunch at noon?")
    sandbox.post_message("carol", "random", "<@U0BOB> count me in")
    stack.model.script(*three_reads())
    posted = sandbox.post_message("bob", "general", "anyone know what is going on in random?")
    question = f"<@{sandbox.bot_user_id}> what is going on in random, and who is Bob?"
    sandbox.post_message("alice", "general", question, thread_ts=posted["ts"])
    [reply] = await stack.answer("general", posted["ts"])

    assert reply["text"].strip() == "Let me look.\n\nBob asked about lunch; he is an SRE in London."
    steps = tasks(reply)
    assert steps["toolu_thread"]["title"] == "Reading the thread"
    assert steps["toolu_thread"]["status"] == "complete"
    assert steps["toolu_thread"]["output"] == "2 messages"
    [thread_link] = steps["toolu_thread"]["sources"]
    assert thread_link["text"] == "Thread in #general"
    assert thread_link["url"].endswith(f"/archives/C0GENERAL/p{posted['ts'].replace('.', '')}")
    assert steps["toolu_chan"]["title"] == "Reading another channel"
    assert steps["toolu_chan"]["output"] == "2 messages in #random"
    assert steps["toolu_chan"]["sources"][0]["url"].endswith("/archives/C0RANDOM")
    [cited] = [
        element["text"]
        for block in reply["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
        if element.get("text", "").startswith("Sources:")
    ]
    # the channel read is cited; the thread the person is reading is not
    assert cited.startswith("Sources: <http") and cited.endswith("/archives/C0RANDOM|#random>")
    assert cited.count("<") == 1 and "Thread in" not in cited
    assert steps["toolu_user"] == {
        "type": "task_update",
        "id": "toolu_user",
        "title": "Looking up a profile",
        "status": "complete",
        "output": "Bob Baker (Site reliability engineer)",
    }

    requests = stack.model.requests
    assert len(requests) == 4
    tools = {tool["name"]: tool for tool in requests[0].json["tools"]}
    assert {"read_thread", "read_channel", "get_user"} <= set(tools)
    channel_schema = tools["read_channel"]["input_schema"]
    assert set(channel_schema["properties"]) == {"channel", "limit"}
    assert channel_schema["properties"]["limit"]["default"] == 20
    assert "at most 100" in channel_schema["properties"]["limit"]["description"]
    assert channel_schema.get("required", []) == []
    assert tools["get_user"]["input_schema"]["required"] == ["user"]
    assert tools["read_thread"]["input_schema"]["properties"] == {}

    thread = result_text(tool_results(requests[1])["toolu_thread"])
    assert "Bob: anyone know what is going on in random?" in thread.splitlines()[1]
    assert "Alice: what is going on in random, and who is Bob?" in thread.splitlines()[2]
    channel = result_text(tool_results(requests[2])["toolu_chan"])
    assert "Bob: who is up for lunch at noon?" in channel
    assert "Carol: @Bob count me in" in channel  # mentions read as names
    profile = result_text(tool_results(requests[3])["toolu_user"])
    assert "title: Site reliability engineer" in profile
    assert "time zone: Europe/London (UTC+00:00)" in profile and "role: member" in profile
    assert "email" not in profile


async def test_a_private_channel_the_asker_is_not_in_is_refused(stack) -> None:
    sandbox = stack.sandbox
    sandbox.add_channel("leadership", id="C0LEAD", is_private=True, members=["bob"])
    sandbox.post_message("bob", "leadership", "the reorg is announced on Friday")
    stack.model.script(
        ToolCalls([ToolUse("read_channel", {"channel": "C0LEAD"}, id="toolu_lead")]),
        Text("I can't read that channel for you."),
    )
    posted = stack.mention("what does leadership say?")
    [reply] = await stack.answer("general", posted["ts"])

    told = tool_results(stack.model.requests[1])["toolu_lead"]
    assert told.get("is_error") is True
    assert "not a member of that channel" in result_text(told)
    assert "reorg" not in str(stack.model.requests[1].json)
    assert "leadership" not in result_text(told)  # a private channel is not even named
    step = tasks(reply)["toolu_lead"]
    assert step["status"] == "error" and "not a member of that channel" in step["output"]
    assert sandbox.calls("conversations.history") == []


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ("C0NOBOT", "Teammate is not a member of #private-ops"),
        ("C0NOWHERE", "Teammate cannot see a channel C0NOWHERE"),
        ("D0BOB", "not a member of that channel"),  # Bob's DM with Teammate, asked by Alice
    ],
)
async def test_channels_teammate_or_the_asker_cannot_read_say_why(stack, channel, words) -> None:
    bobs_dm = stack.sandbox.ws.dm_for("U0BOB")  # written there earlier, before Teammate ran
    stack.sandbox.ws.post(bobs_dm, text="my salary is secret", user="U0BOB")
    stack.model.script(
        ToolCalls([ToolUse("read_channel", {"channel": channel}, id="toolu_other")]),
        Text("No luck."),
    )
    posted = stack.mention("read that channel")
    [reply] = await stack.answer("general", posted["ts"])
    told = result_text(tool_results(stack.model.requests[1])["toolu_other"])
    assert words in told and "salary" not in told
    assert tasks(reply)["toolu_other"]["status"] == "error"


async def test_the_current_channel_is_read_with_the_limit_asked(stack) -> None:
    for i in range(5):
        stack.sandbox.post_message("carol", "general", f"note {i}")
    stack.model.script(
        ToolCalls([ToolUse("read_channel", {"limit": 3}, id="toolu_here")]), Text("Done.")
    )
    posted = stack.mention("summarise the channel")
    [reply] = await stack.answer("general", posted["ts"])
    told = result_text(tool_results(stack.model.requests[1])["toolu_here"])
    lines = told.splitlines()
    assert lines[0] == "The latest messages of #general (3 messages, oldest first):"
    assert lines[1].endswith("Carol: note 3") and lines[2].endswith("Carol: note 4")
    assert "Alice: summarise the channel" in lines[3]
    step = tasks(reply)["toolu_here"]
    assert step["title"] == "Reading the channel" and step["output"] == "3 messages in #general"


async def test_steps_are_lines_in_the_chat_update_fallback(stack) -> None:
    stack.sandbox.configure(disabled_methods=["chat.startStream", "chat.appendStream"])
    stack.sandbox.post_message("bob", "random", "who is up for lunch at noon?")
    stack.model.script(*three_reads())
    posted = stack.mention("what is going on in random?")
    [reply] = await stack.answer("general", posted["ts"])
    lines = reply["blocks"][0]["text"].splitlines()
    thread_line = next(line for line in lines if "Reading the thread" in line)
    assert thread_line.startswith("✅ Reading the thread — 1 message · [Thread in #general](")
    assert "✅ Reading another channel — 1 message in #random · [#random](" in "\n".join(lines)
    assert "✅ Looking up a profile — Bob Baker (Site reliability engineer)" in lines
    assert lines[-1] == "Bob asked about lunch; he is an SRE in London."
