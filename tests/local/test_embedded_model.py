"""The embedded model for real (llama.cpp + SmolLM2-135M), through the whole path:
control API (as the page uses it) → bot → llama.cpp server → the sandbox thread."""

from __future__ import annotations

import aiohttp
import pytest

from bot.sandbox import Sandbox
from bot.testkit.stack import Stack, bot_settings, running_bot

QUESTION = "@teammate What is the capital of France?"


@pytest.fixture
async def local_stack(tmp_path):
    async with Sandbox() as sandbox:
        settings = bot_settings(sandbox, None, tmp_path, model="local", anthropic_api_key=None)
        async with running_bot(settings, sandbox) as (runtime, url):
            yield Stack(sandbox, None, runtime, url)  # type: ignore[arg-type]


async def test_embedded_model_answers_a_simple_question_in_the_thread(local_stack) -> None:
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
    assert reply["text"].strip()  # a real, non-empty answer from the embedded model
    footer = str(reply["blocks"])
    assert "SmolLM2 135M" in footer and "often wrong" in footer


async def test_the_embedded_model_server_stops_with_the_bot(tmp_path) -> None:
    async with Sandbox() as sandbox:
        settings = bot_settings(sandbox, None, tmp_path, model="local", anthropic_api_key=None)
        async with running_bot(settings, sandbox) as (runtime, _):
            process = runtime.local_model.process
            assert process is not None and process.returncode is None
        assert process.returncode is not None
