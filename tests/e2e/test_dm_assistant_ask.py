"""Direct messages, the assistant panel, /ask and /teammate help."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.store.schema import UsageRow
from bot.testkit.fakes import Text


async def test_direct_message_is_answered_in_its_thread(stack) -> None:
    stack.model.script(Text("Hello Alice, happy to help."))
    dm = stack.sandbox.ws.dm_for("U0ALICE").id
    posted = stack.sandbox.post_message("alice", dm, "hi there")
    [reply] = await stack.answer(dm, posted["ts"])
    assert reply["text"].strip() == "Hello Alice, happy to help."
    await stack.runtime.tracker.drain(10)
    async with stack.runtime.db.sessions() as session:
        [row] = (await session.scalars(select(UsageRow))).all()
    # the core was told where it answered: a DM, for Alice, in that thread
    assert (row.channel, row.channel_kind, row.user_id) == (dm, "dm", "U0ALICE")
    assert row.thread_ts == posted["ts"] and row.status == "done"


async def test_assistant_thread_shows_prompts_status_title_and_answer(stack) -> None:
    stack.model.script(Text("Rotate them from the admin page.", delay=0.02))
    opened = stack.sandbox.open_assistant_thread("alice")
    channel, thread_ts = opened["channel"], opened["thread_ts"]
    await stack.sandbox.wait_for(
        lambda: (stack.sandbox.assistant(channel, thread_ts) or {}).get("suggested_prompts")
    )
    panel = stack.sandbox.assistant(channel, thread_ts)
    assert panel["suggested_prompts"]["prompts"][0]["title"] == "Summarize a thread"

    stack.sandbox.post_message("alice", channel, "How do I rotate the API keys?", thread_ts)
    replies = await stack.answer(channel, thread_ts, count=2)
    assert replies[0]["text"].startswith("Hi! I'm Teammate")
    assert replies[-1]["text"].strip() == "Rotate them from the admin page."
    panel = stack.sandbox.assistant(channel, thread_ts)
    assert "is thinking…" in [entry["status"] for entry in panel["status_history"]]
    assert panel["title"] == "How do I rotate the API keys?"


async def test_ask_posts_the_question_and_answers_in_its_thread(stack) -> None:
    stack.model.script(Text("Forty-two."))
    result = await stack.sandbox.run_command("alice", "general", "/ask", "what is the answer?")
    assert result["status"] == 200 and not result["failed"]  # acked within Slack's 3 s
    question = await stack.sandbox.wait_for(
        lambda: next(
            (m for m in stack.sandbox.channel_messages("general") if "asked" in m["text"]), None
        )
    )
    assert "what is the answer?" in question["text"]
    [reply] = await stack.answer("general", question["ts"])
    assert reply["text"].strip() == "Forty-two."
    assert "what is the answer?" in str(stack.model.requests[-1].json["messages"])


async def test_ask_where_teammate_is_not_a_member_explains_how_to_invite_it(stack) -> None:
    result = await stack.sandbox.run_command("alice", "private-ops", "/ask", "hello?")
    assert not result["failed"]
    notes = await stack.sandbox.wait_for(lambda: stack.sandbox.ephemeral("alice", "private-ops"))
    assert "/invite @Teammate" in notes[-1]["text"]
    assert stack.model.requests == []


async def test_ask_without_a_question_shows_usage_and_help_lists_commands(stack) -> None:
    empty = await stack.sandbox.run_command("alice", "general", "/ask", "")
    assert "Usage: `/ask" in str(empty["body"])
    helped = await stack.sandbox.run_command("alice", "general", "/teammate", "help")
    assert "/ask" in str(helped["body"]) and "Mention me" in str(helped["body"])
