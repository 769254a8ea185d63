"""Shared helpers for the core tests: a fast-retry config and event collectors."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

from pydantic_ai.models import Model
from pydantic_ai.models.function import FunctionModel

from bot.core.agent import AgentService
from bot.core.catalog import Catalog, ModelSpec
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Scope, Turn
from bot.core.events import AgentEvent, Done, Failed, TextDelta, ThinkingDelta
from bot.core.prompts import Prompts
from bot.core.providers import Providers

TEST_KEY = "sk-ant-test-0123456789abcdef"

# Tiny waits so retries cost milliseconds; a test that needs another value replaces it.
FAST_RETRIES = CoreConfig(
    anthropic_api_key=TEST_KEY,
    openai_api_key="sk-openai-test-0123456789",
    retry_attempts=4,
    retry_backoff=0.01,
    retry_max_wait=2.0,
    request_timeout=10.0,
    stream_idle_timeout=5.0,
)


def scope(team_name: str = "", channel_name: str = "", user_name: str = "") -> Scope:
    """A scope in a public channel of team T1, with the names the prompt shows."""
    return Scope(
        "T1",
        "C1",
        "public",
        "1.1",
        "U1",
        team_name=team_name,
        channel_name=channel_name,
        user_name=user_name,
    )


def ask(text: str = "What is our deploy process?", **kwargs: Any) -> Conversation:
    """A one-message conversation from Dana."""
    return Conversation(turns=[Turn("user", text, "Dana")], scope=scope("Acme"), **kwargs)


async def collect(service: AgentService, conversation: Conversation) -> list[AgentEvent]:
    async with aclosing(service.stream(conversation)) as events:
        return [event async for event in events]


def text_of(events: list[AgentEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def thinking_of(events: list[AgentEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ThinkingDelta))


class ScriptedProviders(Providers):
    """Providers whose models are given by the test (pydantic-ai FunctionModels), by spec key."""

    def __init__(self, config: CoreConfig, models: dict[str, Model]) -> None:
        super().__init__(config)
        self._scripted = models

    def model(self, spec: ModelSpec) -> Model:
        return self._scripted[spec.key]

    def host(self, spec: ModelSpec) -> str:
        return "model.test"


def scripted_service(
    catalog: Catalog, prompts: Prompts, stream_function: Any, **options: Any
) -> AgentService:
    """A service whose default model (claude-haiku-4-5) is ``stream_function`` (pydantic-ai's
    FunctionModel); ``options`` go to :class:`AgentService` (toolbox, approvals, ...)."""
    scripted = {"claude-haiku-4-5": FunctionModel(stream_function=stream_function)}
    return AgentService(
        FAST_RETRIES,
        catalog,
        prompts,
        providers=ScriptedProviders(FAST_RETRIES, scripted),
        **options,
    )


def terminal(events: list[AgentEvent]) -> AgentEvent:
    """The final event, checking it is the only Done or Failed."""
    ends = [e for e in events if isinstance(e, Done | Failed)]
    assert len(ends) == 1, events
    assert events[-1] is ends[0], events
    return ends[0]
