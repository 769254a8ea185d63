"""A memory per channel, through the whole product: a scripted Claude saves a note with the
memory tool in one thread and reads it in another thread of the same channel; another channel
cannot; a restart keeps it; `/teammate memory` shows, edits and clears it; a shared channel has
none until an admin allows it; an OpenAI-compatible model gets the same commands as an
ordinary tool."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event

from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.stack import Stack, bot_settings, running_bot

NOTE = "/memories/decisions.md"


def create(text: str, path: str = NOTE) -> ToolCalls:
    return ToolCalls([ToolUse("memory", {"command": "create", "path": path, "file_text": text})])


def view(path: str = NOTE) -> ToolCalls:
    return ToolCalls([ToolUse("memory", {"command": "view", "path": path})])


def tool_results(request_json: dict) -> list[str]:
    """The tool results the bot sent back to the model in this request."""
    found = []
    for message in request_json["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_result":
                content = block["content"]
                found.append(content if isinstance(content, str) else json.dumps(content))
    return found


def tools_sent(request_json: dict) -> list[dict]:
    return request_json.get("tools") or []


def steps(reply: dict) -> dict[str, str]:
    return {c["title"]: c["status"] for c in reply["chunks"] if c["type"] == "task_update"}


async def test_a_note_saved_in_one_thread_is_read_in_another_thread_only_of_that_channel(
    stack: Stack,
) -> None:
    stack.model.script(create("Deploys happen on Tuesdays."), Text("Noted for this channel."))
    first = stack.mention("remember for this channel: deploys happen on Tuesdays")
    [reply] = await stack.answer("general", first["ts"])
    assert steps(reply) == {f"Saving {NOTE}": "complete"}
    sent = stack.model.requests[0].json
    assert {"type": "memory_20250818", "name": "memory"} in tools_sent(sent)
    assert "Memory: This channel has notes" in str(sent["system"])

    stack.model.script(view(), Text("On Tuesdays."))
    second = stack.mention("when do deploys happen?")
    [reply] = await stack.answer("general", second["ts"])
    assert reply["text"] == "On Tuesdays." and steps(reply) == {f"Reading {NOTE}": "complete"}
    assert NOTE in str(stack.model.requests[2].json["system"])  # listed before it was viewed
    [result] = tool_results(stack.model.requests[3].json)
    assert "Deploys happen on Tuesdays." in result

    stack.model.script(view(), Text("I have no notes on that."))
    elsewhere = stack.mention("when do deploys happen?", channel="random")
    [reply] = await stack.answer("random", elsewhere["ts"])
    [result] = tool_results(stack.model.requests[5].json)
    assert "does not exist" in result and "Tuesdays" not in result
    assert steps(reply) == {f"Reading {NOTE}": "error"}


async def test_a_restart_keeps_the_notes(sandbox, model, tmp_path) -> None:
    settings = bot_settings(sandbox, model, tmp_path)
    async with running_bot(settings, sandbox) as (runtime, url):
        stack = Stack(sandbox, model, runtime, url)
        model.script(create("The office closes at six."), Text("Saved."))
        posted = stack.mention("remember that the office closes at six")
        await stack.answer("general", posted["ts"])
    async with running_bot(settings, sandbox) as (runtime, url):
        stack = Stack(sandbox, model, runtime, url)
        model.clear()
        model.script(view(), Text("At six."))
        posted = stack.mention("when does the office close?")
        await stack.answer("general", posted["ts"])
        [result] = tool_results(model.requests[-1].json)
        assert "The office closes at six." in result


async def memory_page(stack: Stack, user: str = "alice", channel: str = "general") -> dict:
    result = await stack.sandbox.run_command(user, channel, "/teammate", "memory")
    assert result["status"] == 200 and not result["failed"]
    return await stack.sandbox.wait_for(
        lambda: next(iter(stack.sandbox.ephemeral(user, channel)[-1:]), None)
    )


async def page_showing(stack: Stack, words: str, absent: str = "\0") -> dict:
    """Alice's latest memory page once it shows ``words`` (and not ``absent``)."""

    def shown() -> dict | None:
        page = stack.sandbox.ephemeral("alice", "general")[-1]
        blocks = str(page["blocks"])
        return page if words in blocks and absent not in blocks else None

    return await stack.sandbox.wait_for(shown)


async def save_note(stack: Stack, text: str, path: str = NOTE) -> None:
    stack.model.script(create(text, path), Text("Saved."))
    posted = stack.mention("please note this")
    await stack.answer("general", posted["ts"])


async def test_teammate_memory_shows_the_notes_to_the_asker_and_clears_one(stack: Stack) -> None:
    await save_note(stack, "Deploys happen on Tuesdays.")
    await save_note(stack, "Lunch is at noon.", "/memories/lunch.md")
    page = await memory_page(stack)
    shown = str(page["blocks"])
    assert NOTE in shown and "Deploys happen on Tuesdays." in shown and "Lunch is at noon." in shown
    assert stack.sandbox.ephemeral("bob", "general") == []  # only the asker sees it

    await stack.sandbox.click("alice", "general", page["ts"], "memory_clear", value=NOTE)
    await page_showing(stack, "Lunch is at noon.", absent="Tuesdays")

    stack.model.script(view(), Text("Nothing saved."))
    posted = stack.mention("when do deploys happen?")
    await stack.answer("general", posted["ts"])
    assert "does not exist" in tool_results(stack.model.requests[-1].json)[0]


async def test_clear_all_asks_first(stack: Stack) -> None:
    await save_note(stack, "Deploys happen on Tuesdays.")
    page = await memory_page(stack)
    await stack.sandbox.click("alice", "general", page["ts"], "memory_clear_all")
    confirm = await page_showing(stack, "Clear all 1 note")
    assert await stack.runtime.agent.memory.store.notes("channel:T0SANDBOX:C0GENERAL")
    await stack.sandbox.click("alice", "general", confirm["ts"], "memory_clear_all_confirmed")
    await page_showing(stack, "no notes yet")
    assert await stack.runtime.agent.memory.store.notes("channel:T0SANDBOX:C0GENERAL") == []


async def test_a_note_is_edited_in_a_modal(stack: Stack) -> None:
    await save_note(stack, "Deploys happen on Tuesdays.")
    page = await memory_page(stack)
    await stack.sandbox.click("alice", "general", page["ts"], "memory_edit", value=NOTE)
    modal = await stack.sandbox.wait_for(lambda: stack.sandbox.modal("alice"))
    assert "Deploys happen on Tuesdays." in json.dumps(modal)

    emptied = await stack.sandbox.submit_view("alice", modal["id"], {"note": {"text": "  "}})
    assert emptied["errors"] == {"note": "A note cannot be empty: use Clear to delete it."}

    await stack.sandbox.submit_view(
        "alice", modal["id"], {"note": {"text": "Deploys happen on Thursdays."}}
    )
    await page_showing(stack, "Thursdays", absent="Tuesdays")
    assert stack.sandbox.modal("alice") is None

    stack.model.script(view(), Text("On Thursdays."))
    posted = stack.mention("when do deploys happen?")
    await stack.answer("general", posted["ts"])
    assert "Deploys happen on Thursdays." in tool_results(stack.model.requests[-1].json)[0]


@pytest.fixture
def bot_options() -> dict:
    return {"admins": "U0CAROL"}


async def test_a_shared_channel_has_no_memory_until_an_admin_allows_it(stack: Stack) -> None:
    sandbox = stack.sandbox
    sandbox.add_channel("partners", id="C0PARTNERS", is_ext_shared=True)
    sandbox.add_user("dana", "Dana Diaz", id="U0DANA", is_admin=True)
    sandbox.set_members("partners", add=["dana"])

    stack.model.script(Text("I keep no memory here."))
    posted = stack.mention("remember for this channel: we ship on Fridays", channel="partners")
    await stack.answer("partners", posted["ts"])
    sent = stack.model.requests[-1].json
    assert all(tool["name"] != "memory" for tool in tools_sent(sent))
    assert "/teammate memory allow" in str(sent["system"])
    page = await memory_page(stack, channel="partners")
    assert "keep no memory here" in page["text"] + str(page["blocks"])

    await sandbox.run_command("bob", "partners", "/teammate", "memory allow")
    refused = await sandbox.wait_for(lambda: sandbox.ephemeral("bob", "partners"))
    assert "Only a workspace admin" in refused[-1]["text"]
    stack.model.script(Text("Still no memory."))
    posted = stack.mention("hello again", channel="partners")
    await stack.answer("partners", posted["ts"])
    assert all(tool["name"] != "memory" for tool in tools_sent(stack.model.requests[-1].json))

    await sandbox.run_command("dana", "partners", "/teammate", "memory allow")  # Slack's admin
    allowed = await sandbox.wait_for(lambda: sandbox.ephemeral("dana", "partners"))
    assert "Memory is now allowed" in allowed[-1]["text"]
    stack.model.script(Text("Now I can keep notes."))
    posted = stack.mention("hello once more", channel="partners")
    await stack.answer("partners", posted["ts"])
    assert {"type": "memory_20250818", "name": "memory"} in tools_sent(
        stack.model.requests[-1].json
    )

    await sandbox.run_command("carol", "partners", "/teammate", "memory deny")  # TEAMMATE_ADMINS
    denied = await sandbox.wait_for(lambda: sandbox.ephemeral("carol", "partners"))
    assert "Memory is now off" in denied[-1]["text"]


async def test_an_openai_compatible_model_gets_memory_as_an_ordinary_tool(openai_stack) -> None:
    stack = openai_stack
    stack.model.script(create("Standup is at ten."), Text("Saved."))
    posted = stack.mention("remember for this channel: standup is at ten")
    await stack.answer("general", posted["ts"])
    sent = stack.model.requests[0].json
    [memory] = [t for t in sent["tools"] if t["function"]["name"] == "memory"]
    assert memory["type"] == "function" and "memory_20250818" not in json.dumps(sent)
    assert set(memory["function"]["parameters"]["properties"]) >= {
        "command", "path", "file_text", "old_str", "new_str", "insert_line",
        "insert_text", "view_range", "old_path", "new_path",
    }  # fmt: skip
    notes = await stack.runtime.agent.memory.store.notes("channel:T0SANDBOX:C0GENERAL")
    assert [n.text for n in notes] == ["Standup is at ten."]


async def test_a_direct_message_memory_belongs_to_that_person(stack: Stack) -> None:
    sandbox = stack.sandbox
    alice_dm = sandbox.ws.dm_for("U0ALICE").id
    stack.model.script(create("Alice prefers short answers."), Text("Noted."))
    posted = sandbox.post_message("alice", alice_dm, "remember that I prefer short answers")
    await stack.answer(alice_dm, posted["ts"])
    assert "This direct message has notes" in str(stack.model.requests[0].json["system"])

    stack.model.script(view(), Text("No notes."))
    bob_dm = sandbox.ws.dm_for("U0BOB").id
    posted = sandbox.post_message("bob", bob_dm, "what do I prefer?")
    await stack.answer(bob_dm, posted["ts"])
    assert "does not exist" in tool_results(stack.model.requests[-1].json)[0]

    await sandbox.run_command("alice", alice_dm, "/teammate", "memory")
    page = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", alice_dm))
    shown = str(page[-1]["blocks"])
    assert "your direct messages with Teammate" in shown and "short answers" in shown


async def test_each_answer_reads_its_channels_memory_with_one_query(stack: Stack) -> None:
    """Read from the database every time (replicas see each other's notes at once), in one
    statement on the memory's tables; the notes' texts stay out of it for a model with tools."""
    stack.model.script(create("Deploys happen on Tuesdays."), Text("Noted."), Text("Tuesdays."))
    first = stack.mention("remember for this channel: deploys happen on Tuesdays")
    await stack.answer("general", first["ts"])
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "memory_" in statement:
            statements.append(statement)

    engine = stack.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        second = stack.mention("when do deploys happen?")
        [reply] = await stack.answer("general", second["ts"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert reply["text"] == "Tuesdays."
    assert NOTE in str(stack.model.requests[-1].json["system"])  # the listing was read
    [read] = statements
    assert "memory_notes.path" in read and "memory_notes.text" not in read
