"""The OpenAI-compatible path (vLLM, llama.cpp server, Ollama) and a thread too long for the
model's window."""

from __future__ import annotations

from bot.testkit.fakes import Text


async def test_answers_through_an_openai_compatible_engine(openai_stack) -> None:
    stack = openai_stack
    stack.model.script(Text("Served by a local engine.", delay=0.01))
    posted = stack.mention("who is answering?")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].strip() == "Served by a local engine."
    assert stack.model.requests[-1].json["model"] == "qwen3-8b"
    assert "qwen3-8b" in str(reply["blocks"])


async def test_a_thread_too_long_for_the_window_is_shortened_and_says_so(openai_stack) -> None:
    stack = openai_stack
    parent = stack.sandbox.post_message("alice", "general", "Let's plan the offsite.")
    for n in range(14):  # about 140,000 characters: far beyond a 32k-token window
        stack.sandbox.post_message("bob", "general", f"note {n}: " + "detail " * 1400, parent["ts"])
    stack.model.script(Text("Here is the plan."))
    stack.sandbox.post_message(
        "carol", "general", f"<@{stack.sandbox.bot_user_id}> so what is the plan?", parent["ts"]
    )
    [reply] = await stack.answer("general", parent["ts"])
    assert reply["text"].strip() == "Here is the plan."
    assert "left out" in str(reply["blocks"])  # the footer says the thread was shortened
    sent = str(stack.model.requests[-1].json["messages"])
    assert "so what is the plan?" in sent  # the question is always kept
    assert "note 0:" not in sent  # the oldest turns were dropped whole
    assert "note 13:" in sent
