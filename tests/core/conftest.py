"""Fixtures for the core: fake model servers, and an agent service wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.prompts import Prompts
from bot.testkit.fakes import FakeAnthropic, FakeOpenAI
from tests.core.helpers import FAST_RETRIES


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def prompts() -> Prompts:
    return Prompts.load()


@pytest.fixture
async def anthropic_fake() -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as server:
        yield server


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(models=("qwen3-8b",)) as server:
        yield server


@pytest.fixture
async def make_service(
    catalog: Catalog, prompts: Prompts
) -> AsyncIterator[Callable[..., AgentService]]:
    """Build services from FAST_RETRIES plus overrides; all are closed after the test."""
    made: list[AgentService] = []

    def make(**overrides: Any) -> AgentService:
        service = AgentService(replace(FAST_RETRIES, **overrides), catalog, prompts)
        made.append(service)
        return service

    yield make
    for service in made:
        await service.aclose()
