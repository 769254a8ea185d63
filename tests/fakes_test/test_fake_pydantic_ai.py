"""pydantic-ai agents run against the fakes, including a tool-call round trip."""

from typing import Any

import anthropic
from pydantic_ai import Agent
from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
)
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.run import AgentRunResultEvent

from bot.testkit.fakes import (
    FakeAnthropic,
    FakeOpenAI,
    Text,
    ToolCalls,
    ToolUse,
    thinking_signature,
)


def weather_agent(model: Any) -> Agent:
    agent = Agent(model, instructions="You report the weather.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"Sunny in {city}"

    return agent


async def run_events(agent: Agent, prompt: str) -> list[Any]:
    async with agent.run_stream_events(prompt) as events:
        return [event async for event in events]


def streamed_text(events: list[Any]) -> str:
    text = ""
    for event in events:
        if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
            text += event.part.content
        elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
            text += event.delta.content_delta
    return text


def check_round_trip(events: list[Any]) -> None:
    (call,) = [e for e in events if isinstance(e, FunctionToolCallEvent)]
    assert call.part.tool_name == "get_weather"
    assert call.part.args_as_dict() == {"city": "Paris"}
    (result,) = [e for e in events if isinstance(e, FunctionToolResultEvent)]
    assert result.part.content == "Sunny in Paris"
    assert streamed_text(events) == "It is sunny in Paris."
    assert isinstance(events[-1], AgentRunResultEvent)
    assert events[-1].result.output == "It is sunny in Paris."


async def test_anthropic_agent_tool_round_trip(anthropic_fake: FakeAnthropic) -> None:
    anthropic_fake.script(
        ToolCalls(
            [ToolUse("get_weather", {"city": "Paris"}, id="toolu_w")], thinking="Look it up."
        ),
        Text("It is sunny in Paris."),
    )
    client = anthropic.AsyncAnthropic(
        base_url=anthropic_fake.base_url, api_key="test", max_retries=0
    )
    model = AnthropicModel("claude-sonnet-4-6", provider=AnthropicProvider(anthropic_client=client))
    events = await run_events(weather_agent(model), "Weather in Paris?")
    check_round_trip(events)
    assert any(isinstance(e, PartStartEvent) and isinstance(e.part, ThinkingPart) for e in events)

    first, second = (r.json for r in anthropic_fake.requests)
    assert first["stream"] is True
    assert [t["name"] for t in first["tools"]] == ["get_weather"]
    assistant, tool_turn = second["messages"][-2:]
    # The thinking block went back signed and unchanged, or the fake would have answered 400.
    thinking, tool_use = assistant["content"]
    assert thinking == {
        "type": "thinking",
        "thinking": "Look it up.",
        "signature": thinking_signature("Look it up."),
    }
    assert tool_use["id"] == "toolu_w" and tool_use["input"] == {"city": "Paris"}
    (result,) = [b for b in tool_turn["content"] if b["type"] == "tool_result"]
    assert result["tool_use_id"] == "toolu_w"


async def test_openai_agent_tool_round_trip(openai_fake: FakeOpenAI) -> None:
    openai_fake.script(
        ToolCalls([ToolUse("get_weather", {"city": "Paris"}, id="call_w")], thinking="Look it up."),
        Text("It is sunny in Paris."),
    )
    provider = OpenAIProvider(base_url=openai_fake.v1_url, api_key="test")
    events = await run_events(weather_agent(OpenAIChatModel("fake-model", provider=provider)), "Hi")
    check_round_trip(events)
    assert any(isinstance(e, PartStartEvent) and isinstance(e.part, ThinkingPart) for e in events)

    first, second = (r.json for r in openai_fake.requests)
    assert first["stream"] is True and first["stream_options"] == {"include_usage": True}
    assistant, tool_message = second["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == "call_w"
    assert tool_message == {"role": "tool", "tool_call_id": "call_w", "content": "Sunny in Paris"}
