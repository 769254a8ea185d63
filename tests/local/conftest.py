"""The real embedded model (llama.cpp + SmolLM2-135M) behind the real bot and the sandbox."""

from __future__ import annotations

import pytest

from bot.sandbox import Sandbox
from bot.testkit.stack import Stack, bot_settings, running_bot


@pytest.fixture
async def local_stack(tmp_path):
    """The bot on the embedded model (a llama.cpp server it starts), in the sandbox."""
    async with Sandbox() as sandbox:
        settings = bot_settings(sandbox, None, tmp_path, model="local", anthropic_api_key=None)
        async with running_bot(settings, sandbox) as (runtime, url):
            yield Stack(sandbox, None, runtime, url)  # type: ignore[arg-type]
