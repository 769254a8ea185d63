"""The embedded model for real (llama.cpp + SmolLM2-135M), through the whole path:
control API (as the page uses it) → bot → llama.cpp server → the sandbox thread.

With the catalog's settings for it (greedy decoding, short answers, its own short prompt and
example turns) it answers simple questions right, and the footer shows token counts although
llama.cpp's server reports none while streaming."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import httpx2
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from bot.core.local_tokens import chatml_prompt
from bot.sandbox import Sandbox
from bot.testkit.stack import bot_settings, running_bot

TOKEN_COUNTS = re.compile(r"([\d,]+) in / ([\d,]+) out tokens")


def token_counts(reply: dict) -> tuple[int, int]:
    found = TOKEN_COUNTS.search(str(reply["blocks"]))
    assert found, f"no token counts in the footer: {reply['blocks']}"
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


async def test_the_capital_of_france_is_paris_with_token_counts_in_the_footer(
    local_stack,
) -> None:
    stack = local_stack
    assert stack.runtime.local_model is not None  # a llama.cpp server was started for it
    async with aiohttp.ClientSession() as session:
        async with session.post(
            stack.sandbox.url + "/_sandbox/messages",
            json={
                "user": "alice",
                "channel": "general",
                "text": "@Teammate What is the capital of France?",
            },
        ) as response:
            posted = await response.json()
    [reply] = await stack.answer("general", posted["ts"], within=120)
    assert "paris" in reply["text"].lower()
    footer = str(reply["blocks"])
    assert "SmolLM2 135M" in footer and "often wrong" in footer
    input_tokens, output_tokens = token_counts(reply)
    assert input_tokens > 20 and 0 < output_tokens <= 256


async def test_ask_what_is_2_plus_2_answers_4(local_stack) -> None:
    stack = local_stack
    result = await stack.sandbox.run_command("alice", "general", "/ask", "what is 2+2")
    assert result["status"] == 200 and not result["failed"]
    question = await stack.sandbox.wait_for(
        lambda: next(
            (m for m in stack.sandbox.channel_messages("general") if "asked" in m["text"]), None
        )
    )
    [reply] = await stack.answer("general", question["ts"], within=120)
    assert re.search(r"\b4\b", reply["text"]), reply["text"]
    assert "2 + 3 = 5" not in reply["text"]
    token_counts(reply)


async def test_two_questions_at_once_both_get_their_whole_answer(local_stack) -> None:
    """llama.cpp's server, by default, cuts a streaming answer short when another request
    arrives; the embedded model's server queues them instead."""
    stack = local_stack
    first = stack.mention("What is the capital of France?", user="alice")
    second = stack.mention("What is the capital of France?", user="bob")
    replies = await asyncio.gather(
        stack.answer("general", first["ts"], within=120),
        stack.answer("general", second["ts"], within=120),
    )
    texts = [reply["text"] for [reply] in replies]
    assert all("paris" in text.lower() for text in texts), texts
    assert texts[0] == texts[1]  # greedy decoding: the same question, the same whole answer


async def test_counted_input_tokens_match_the_servers_own_count(local_stack) -> None:
    """The prompt rendered for counting is the one the model's chat template builds."""
    base_url = local_stack.runtime.local_model.base_url
    messages = [
        ModelRequest(parts=[UserPromptPart("Alice: hello")], instructions="Be brief."),
        ModelResponse(parts=[TextPart("Hello, Alice!")]),
        ModelRequest(parts=[UserPromptPart("Alice: What is 2+2?")], instructions="Be brief."),
    ]
    openai_messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Alice: hello"},
        {"role": "assistant", "content": "Hello, Alice!"},
        {"role": "user", "content": "Alice: What is 2+2?"},
    ]
    async with httpx2.AsyncClient(timeout=60) as client:
        served = await client.post(
            base_url + "/chat/completions",
            json={"model": "local", "messages": openai_messages, "max_tokens": 1},
        )
        counted = await client.post(
            base_url.removesuffix("/v1") + "/extras/tokenize/count",
            json={"input": chatml_prompt(messages)},
        )
    assert counted.json()["count"] == served.json()["usage"]["prompt_tokens"]


async def test_the_embedded_model_server_stops_with_the_bot(tmp_path) -> None:
    async with Sandbox() as sandbox:
        settings = bot_settings(sandbox, None, tmp_path, model="local", anthropic_api_key=None)
        async with running_bot(settings, sandbox) as (runtime, _):
            process = runtime.local_model.process
            assert process is not None and process.returncode is None
        assert process.returncode is not None
