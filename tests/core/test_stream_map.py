"""pydantic-ai events become core events; tool activity is mapped for the tools to come."""

from __future__ import annotations

from pydantic_ai.messages import (
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ThinkingPart,
    ThinkingPartDelta,
    ToolCallPart,
    ToolReturnPart,
)

from bot.core.events import TextDelta, ThinkingDelta, ToolFinished, ToolStarted
from bot.core.stream_map import EventMapper


def test_text_and_thinking_deltas() -> None:
    mapper = EventMapper()
    events = [
        PartStartEvent(index=0, part=ThinkingPart(content="Let me ")),
        PartDeltaEvent(index=0, delta=ThinkingPartDelta(content_delta="think.")),
        PartDeltaEvent(index=0, delta=ThinkingPartDelta(signature_delta="sig")),
        PartStartEvent(index=1, part=TextPart(content="Hello")),
        PartDeltaEvent(index=1, delta=TextPartDelta(content_delta=" world")),
    ]
    mapped = [out for event in events for out in mapper.map(event)]
    assert mapped == [
        ThinkingDelta("Let me "),
        ThinkingDelta("think."),
        TextDelta("Hello"),
        TextDelta(" world"),
    ]


def test_a_second_text_part_is_set_off_by_a_blank_line() -> None:
    mapper = EventMapper()
    first = mapper.map(PartStartEvent(index=0, part=TextPart(content="Checking.")))
    empty = mapper.map(PartStartEvent(index=2, part=TextPart(content="")))
    second = mapper.map(PartDeltaEvent(index=2, delta=TextPartDelta(content_delta="Done.")))
    assert first == [TextDelta("Checking.")]
    assert empty == []
    assert second == [TextDelta("\n\nDone.")]


def test_text_after_a_tool_call_is_set_off_from_the_text_before_it() -> None:
    """The model's next response numbers its parts from 0 again; its text is still new."""
    mapper = EventMapper()
    call = ToolCallPart(tool_name="read_thread", args="{}", tool_call_id="call_1")
    events = [
        PartStartEvent(index=0, part=TextPart(content="Let me look.")),
        FunctionToolCallEvent(call),
        FunctionToolResultEvent(
            ToolReturnPart(tool_name="read_thread", content="2 messages", tool_call_id="call_1")
        ),
        PartStartEvent(index=0, part=TextPart(content="Bob asked")),
        PartDeltaEvent(index=0, delta=TextPartDelta(content_delta=" about lunch.")),
    ]
    text = "".join(out.text for e in events for out in mapper.map(e) if isinstance(out, TextDelta))
    assert text == "Let me look.\n\nBob asked about lunch."


def test_tool_call_and_result() -> None:
    mapper = EventMapper()
    call = ToolCallPart(tool_name="search", args='{"q": "deploy"}', tool_call_id="call_1")
    assert mapper.map(FunctionToolCallEvent(call)) == [
        ToolStarted(call_id="call_1", name="search", args={"q": "deploy"})
    ]
    assert mapper.tool_running
    result = ToolReturnPart(tool_name="search", content="3 documents", tool_call_id="call_1")
    assert mapper.map(FunctionToolResultEvent(result)) == [
        ToolFinished(call_id="call_1", name="search", outcome="success", summary="3 documents")
    ]
    assert not mapper.tool_running


def test_a_failed_tool_is_an_error_result() -> None:
    mapper = EventMapper()
    result = ToolReturnPart(
        tool_name="search", content="index offline", tool_call_id="c", outcome="failed"
    )
    (mapped,) = mapper.map(FunctionToolResultEvent(result))
    assert isinstance(mapped, ToolFinished) and mapped.outcome == "failed"
    assert mapped.summary == "index offline"
