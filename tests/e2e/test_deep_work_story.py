"""Deep work in a thread, the whole story in one run over real HTTP (the sandbox as Slack, a
scripted Claude, the real bot): one answer reads the thread, searches the team's knowledge and
saves what it found to the channel's memory, each step shown in the thread; another thread of
the same channel reads the note, another channel cannot; the note outlives a restart of the
bot; `/teammate memory` shows it to the person who asks and Clear removes it."""

from __future__ import annotations

from bot.core.knowledge import KnowledgeStore, add_paths
from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.stack import Stack, bot_settings, running_bot
from tests.e2e.test_knowledge_answers import CITED, DOCUMENTS
from tests.e2e.test_memory import memory_page, page_showing, steps, view
from tests.e2e.test_tools_workspace import result_text, tool_results

NOTE = "/memories/failover.md"
FOUND = "Failover: run `pgctl promote replica-1` from the bastion host, then restart the API pods."
SAVE = {"command": "create", "path": NOTE, "file_text": FOUND}
GENERAL = "channel:T0SANDBOX:C0GENERAL"


def read_search_and_save() -> list:
    """The first answer's script: three tools in turn, then the answer."""
    return [
        ToolCalls([ToolUse("read_thread", {}, id="toolu_thread")], text="Let me check."),
        ToolCalls([ToolUse("search_knowledge", {"query": "promote replica"}, id="toolu_kb")]),
        ToolCalls([ToolUse("memory", SAVE, id="toolu_mem")]),
        Text("Promote replica-1 from the bastion host; I saved that for this channel."),
    ]


def result(request, tool_use_id: str | None = None) -> str:
    """The text of a tool result the request carried back: the one with that id, or the last."""
    results = tool_results(request)
    block = results[tool_use_id] if tool_use_id else list(results.values())[-1]
    return result_text(block)


async def ask(stack: Stack, text: str, user: str = "carol", channel: str = "general") -> dict:
    """A new thread asking ``text``; its one finished reply."""
    posted = stack.mention(text, user=user, channel=channel)
    [reply] = await stack.answer(channel, posted["ts"])
    return reply


async def test_read_search_remember_then_recall_elsewhere_restart_and_clear(
    sandbox, model, tmp_path
) -> None:
    settings = bot_settings(sandbox, model, tmp_path)
    async with running_bot(settings, sandbox) as (runtime, url):
        stack = Stack(sandbox, model, runtime, url)
        await add_paths(KnowledgeStore(runtime.db), [DOCUMENTS])

        # One answer: read the thread, search the knowledge, save the finding.
        outage = sandbox.post_message("bob", "general", "the primary database is down :fire:")
        question = "how do we fail over? Remember it for this channel"
        sandbox.post_message(
            "alice", "general", f"<@{sandbox.bot_user_id}> {question}", thread_ts=outage["ts"]
        )
        model.script(*read_search_and_save())
        [reply] = await stack.answer("general", outage["ts"])
        assert reply["text"].startswith("Let me check.")
        assert reply["text"].endswith("I saved that for this channel.")
        assert list(steps(reply).items()) == [
            ("Reading the thread", "complete"),
            ("Searching the team's knowledge for “promote replica”", "complete"),
            (f"Saving {NOTE}", "complete"),
        ]
        assert CITED in str(reply["blocks"])  # the sources line under the answer
        first = model.requests
        assert len(first) == 4
        thread = result(first[1], "toolu_thread")
        assert "Bob: the primary database is down" in thread and question in thread
        assert "Database failover runbook › Promoting the replica" in result(first[2], "toolu_kb")
        assert NOTE in result(first[3], "toolu_mem")

        # Another thread of the same channel: the note is listed, and viewing it reads it.
        model.script(view(NOTE), Text("Promote replica-1 from the bastion host."))
        reply = await ask(stack, "what is our failover procedure?")
        listed, viewed = model.requests[4:6]
        assert NOTE in str(listed.json["system"])
        assert FOUND in result(viewed)
        assert steps(reply) == {f"Reading {NOTE}": "complete"}

        # Another channel has no such note.
        model.script(view(NOTE), Text("I have no notes on that here."))
        reply = await ask(stack, "what is our failover procedure?", channel="random")
        listed, viewed = model.requests[6:8]
        assert NOTE not in str(listed.json["system"])
        told = result(viewed)
        assert "does not exist" in told and "pgctl" not in told
        assert steps(reply) == {f"Reading {NOTE}": "error"}

    async with running_bot(settings, sandbox) as (runtime, url):  # a new process, same database
        stack = Stack(sandbox, model, runtime, url)
        model.clear()
        model.script(view(NOTE), Text("Promote replica-1."))
        await ask(stack, "remind me how we fail over?", user="bob")
        assert NOTE in str(model.requests[0].json["system"])
        assert FOUND in result(model.requests[1])

        # `/teammate memory` shows the note to the person who asks; Clear removes it.
        page = await memory_page(stack)
        assert NOTE in str(page["blocks"]) and "pgctl promote replica-1" in str(page["blocks"])
        assert sandbox.ephemeral("bob", "general") == []
        await sandbox.click("alice", "general", page["ts"], "memory_clear", value=NOTE)
        await page_showing(stack, "no notes yet")
        assert await runtime.agent.memory.store.notes(GENERAL) == []

        model.script(view(NOTE), Text("There is no note about that."))
        await ask(stack, "how do we fail over?")
        assert NOTE not in str(model.requests[2].json["system"])
        assert "does not exist" in result(model.requests[3])
