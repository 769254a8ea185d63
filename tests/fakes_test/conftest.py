"""Fixtures: a started fake per test, and real SDK clients pointed at it."""

from collections.abc import AsyncIterator

import anthropic
import openai
import pytest

from bot.testkit.fakes import FakeAnthropic, FakeOpenAI


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def claude(anthropic_fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(
        base_url=anthropic_fake.base_url, api_key="test", max_retries=0
    )
    async with client:
        yield client


@pytest.fixture
async def oai(openai_fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=openai_fake.v1_url, api_key="test", max_retries=0)
    async with client:
        yield client
