"""Mentions and follow-ups in channel threads, as a person in the workspace sees them."""

from __future__ import annotations

from bot.core.store import UsageLog
from bot.testkit.fakes import Text

ANSWER = " ".join(f"word{i}" for i in range(60)) + "."


def appended_text(sandbox, thread_ts: str, ts: str) -> list[str]:
    """The pieces of text Slack received for the first streamed message of a thread."""
    pieces = []
    for call in sandbox.calls():
        args = call["args"]
        if call["method"] == "chat.startStream" and args.get("thread_ts") == thread_ts:
            pieces.append(args.get("markdown_text", ""))
        elif call["method"] in ("chat.appendStream", "chat.stopStream") and args.get("ts") == ts:
            pieces.append(args.get("markdown_text", ""))
    return [p for p in pieces if p]


async def test_mention_is_answered_once_in_the_thread_growing_as_it_streams(stack) -> None:
    stack.model.script(Text(ANSWER, delay=0.03))
    posted = stack.mention("what are the words?")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].strip() == ANSWER
    pieces = appended_text(stack.sandbox, posted["ts"], reply["ts"])
    assert len(pieces) >= 3, pieces  # the user saw the answer grow in several steps
    assert "".join(pieces).strip() == ANSWER
    footer = str(reply["blocks"])
    assert "Claude Haiku 4.5" in footer and "tokens" in footer
    assert stack.sandbox.ratelimited == 0
    await stack.runtime.tracker.drain(10)  # the answer's bookkeeping follows its last message
    answers, tokens_in, tokens_out, cost = await UsageLog(stack.runtime.db).totals()
    assert answers == 1 and tokens_in > 0 and tokens_out > 0 and cost > 0  # usage is stored


async def test_follow_up_needs_no_mention_and_the_model_sees_who_said_what(stack) -> None:
    stack.model.script(Text("Paris."), Text("About 2.1 million people."))
    posted = stack.mention("what is the capital of France?")
    await stack.answer("general", posted["ts"])
    stack.sandbox.post_message("bob", "general", "and how many live there?", thread_ts=posted["ts"])
    replies = await stack.answer("general", posted["ts"], count=2)
    assert replies[-1]["text"].strip() == "About 2.1 million people."
    sent = stack.model.requests[-1].json["messages"]
    flat = str(sent)
    assert "Alice" in flat and "what is the capital of France?" in flat
    assert "Bob" in flat and "and how many live there?" in flat
    assert any(m["role"] == "assistant" and "Paris." in str(m["content"]) for m in sent)


async def test_a_new_mention_is_answered_without_reading_its_thread(stack) -> None:
    """The mention alone is the conversation: no Tier 3 thread read is spent on it; the
    follow-up in its thread is answered with the whole thread read."""
    stack.model.script(Text("Paris."), Text("About 2.1 million people."))
    posted = stack.mention("what is the capital of France?")
    await stack.answer("general", posted["ts"])
    assert stack.sandbox.calls("conversations.replies") == []
    assert "what is the capital of France?" in str(stack.model.requests[0].json["messages"])
    stack.sandbox.post_message("bob", "general", "and how many live there?", thread_ts=posted["ts"])
    await stack.answer("general", posted["ts"], count=2)
    assert len(stack.sandbox.calls("conversations.replies")) == 1


async def test_channel_chatter_is_left_alone(stack) -> None:
    stack.sandbox.post_message("alice", "general", "lunch anyone?")
    posted = stack.mention("hello")
    await stack.answer("general", posted["ts"])
    assert len(stack.model.requests) == 1  # only the mention reached the model
