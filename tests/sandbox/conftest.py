"""Fixtures: a running sandbox, a signature-checking receiver as the bot, a real web client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver

FAST_RETRIES = (0.0, 0.05, 0.1)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(retry_schedule=FAST_RETRIES, ack_timeout=0.5, rate_limits=False)
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


@pytest.fixture
async def receiver(sandbox: Sandbox) -> AsyncIterator[Receiver]:
    bot = await Receiver(sandbox.signing_secret).start()
    sandbox.request_url = bot.url
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
