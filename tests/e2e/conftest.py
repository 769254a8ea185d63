from __future__ import annotations

from pathlib import Path

import pytest

from bot.sandbox import Sandbox
from bot.testkit.fakes import FakeAnthropic, FakeOpenAI
from bot.testkit.stack import Stack, bot_settings, running_bot

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.fixture
async def sandbox():
    """The sandbox as Slack would be for Teammate: its manifest's events, commands and name."""
    box = Sandbox(retry_schedule=(0.0, 0.5, 1.0), ack_timeout=3.0, manifest=MANIFEST)
    async with box:
        yield box


@pytest.fixture
async def model():
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
def bot_options() -> dict:
    """Extra settings for the bot; a test overrides this fixture to change them."""
    return {}


@pytest.fixture
async def stack(sandbox, model, tmp_path, bot_options):
    settings = bot_settings(sandbox, model, tmp_path, **bot_options)
    async with running_bot(settings, sandbox) as (runtime, url):
        yield Stack(sandbox, model, runtime, url)


@pytest.fixture
async def openai_stack(sandbox, model, tmp_path):
    """The bot answering with an OpenAI-compatible engine (a fake one) instead of Claude."""
    async with FakeOpenAI() as engine:
        settings = bot_settings(
            sandbox,
            model,
            tmp_path,
            model="openai:qwen3-8b",
            openai_base_url=engine.v1_url,
            openai_api_key="local",
        )
        async with running_bot(settings, sandbox) as (runtime, url):
            yield Stack(sandbox, engine, runtime, url)
