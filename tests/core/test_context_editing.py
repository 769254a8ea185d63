"""Anthropic's context editing as it goes on the wire: a Claude entry marked for it sends the
clearing of old tool results with its beta; an OpenAI-compatible engine gets none of it."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.agent import AgentService
from bot.core.events import Done
from bot.testkit.fakes import FakeAnthropic, FakeOpenAI, Text
from tests.core.helpers import ask, collect, terminal

MakeService = Callable[..., AgentService]


async def test_a_claude_request_asks_the_server_to_clear_old_tool_results(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Text("Thursday."))
    service = make_service(anthropic_base_url=anthropic_fake.base_url, model="claude-haiku-4-5")
    events = await collect(service, ask("When do we deploy?", deep=True))
    assert isinstance(terminal(events), Done)
    [request] = anthropic_fake.requests
    betas = request.headers.get("anthropic-beta", "").split(",")
    assert "context-management-2025-06-27" in betas
    assert "compact-2026-01-12" in betas  # pydantic-ai adds it with any context management
    assert "interleaved-thinking-2025-05-14" in betas  # deep mode's beta is kept beside it
    [edit] = request.json["context_management"]["edits"]
    room = 200_000 - 16_000  # Haiku 4.5's window less its answer
    assert edit == {
        "type": "clear_tool_uses_20250919",
        "trigger": {"type": "input_tokens", "value": int(room * 0.7)},
        "keep": {"type": "tool_uses", "value": 3},
        "clear_at_least": {"type": "input_tokens", "value": int(room * 0.7) - int(room * 0.5)},
    }
    assert request.json["max_tokens"] == 16_000


async def test_an_openai_compatible_request_carries_no_context_editing(
    make_service: MakeService, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script(Text("Thursday."))
    service = make_service(openai_base_url=openai_fake.v1_url, model="openai:qwen3-8b")
    events = await collect(service, ask("When do we deploy?"))
    assert isinstance(terminal(events), Done)
    [request] = openai_fake.requests
    assert "context_management" not in request.json
    assert "context-management" not in str(request.headers)
