"""Thinking blocks go back to the API unchanged across a tool call, over real HTTP.

The fake Anthropic server signs each thinking block it streams and answers 400, as the real
API does, when a later request sends one back altered or unsigned (its own tests show that);
here the block is also compared byte for byte with what the server sent.
"""

from __future__ import annotations

import json
from dataclasses import replace

from pydantic_ai import RunContext

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.deps import AnswerDeps
from bot.core.events import Done, Notice, ToolFinished
from bot.core.prompts import Prompts
from bot.core.tools.registry import ToolDef, ToolRegistry
from bot.testkit.fakes import FakeAnthropic, Text, ToolCalls, ToolUse, thinking_signature
from tests.core.helpers import FAST_RETRIES, ask, collect, terminal, text_of, thinking_of

THOUGHT = "The rota is in the on-call tool; look it up before answering."


async def on_call(ctx: RunContext[AnswerDeps], week: int) -> str:
    """Who is on call in the given week of the year."""
    return f"Week {week}: Bob"


def service(catalog: Catalog, prompts: Prompts, server: FakeAnthropic, model: str):
    registry = ToolRegistry()
    registry.add(ToolDef(on_call, title=lambda args: f"Looking up week {args.get('week')}"))
    config = replace(FAST_RETRIES, anthropic_base_url=server.base_url, model=model)
    return AgentService(config, catalog, prompts, toolbox=registry)


def assistant_turns(body: dict) -> list[list[dict]]:
    return [m["content"] for m in body["messages"] if m["role"] == "assistant"]


async def test_thinking_and_its_signature_go_back_unchanged_with_the_tool_result(
    catalog: Catalog, prompts: Prompts, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(
        ToolCalls([ToolUse("on_call", {"week": 12}, id="toolu_1")], thinking=THOUGHT),
        Text("Bob is on call in week 12."),
    )
    agent = service(catalog, prompts, anthropic_fake, "claude-haiku-4-5")
    try:
        events = await collect(agent, ask("Who is on call in week 12?", deep=True))
    finally:
        await agent.aclose()
    assert isinstance(terminal(events), Done)
    assert thinking_of(events) == THOUGHT and text_of(events) == "Bob is on call in week 12."
    [finished] = [e for e in events if isinstance(e, ToolFinished)]
    assert finished.outcome == "success"

    first, second = (r.json for r in anthropic_fake.requests)
    assert first["thinking"] == second["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    betas = anthropic_fake.requests[1].headers.get("anthropic-beta", "")
    assert "interleaved-thinking-2025-05-14" in betas  # it may think again after the tool
    [turn] = assistant_turns(second)
    sent = {"type": "thinking", "thinking": THOUGHT, "signature": thinking_signature(THOUGHT)}
    assert json.dumps(turn[0], sort_keys=True) == json.dumps(sent, sort_keys=True)
    assert turn[1]["type"] == "tool_use" and turn[1]["id"] == "toolu_1"
    result = second["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1"
    assert "Week 12: Bob" in str(result["content"])


async def test_deep_mode_on_a_model_without_thinking_is_a_normal_answer_said_once(
    catalog: Catalog, prompts: Prompts, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Text("Bob."))
    agent = service(catalog, prompts, anthropic_fake, "anthropic:claude-future-9")
    try:
        events = await collect(agent, ask("Who is on call?", deep=True))
    finally:
        await agent.aclose()
    assert isinstance(terminal(events), Done) and text_of(events) == "Bob."
    assert "thinking" not in anthropic_fake.requests[0].json
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert notices == ["claude-future-9 has no deep mode; this is a normal answer."]
