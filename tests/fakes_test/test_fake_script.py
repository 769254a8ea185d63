"""The scripting layer: piece splitting, JSON specs, and request helpers."""

import pytest

from bot.testkit.fakes.script import (
    Drop,
    Dynamic,
    Hang,
    Status,
    StreamError,
    Text,
    ToolCalls,
    ToolUse,
    last_user_text,
    plan_blocks,
    reply_from_spec,
    resolve,
    split_pieces,
)


def test_split_pieces_keeps_whitespace_with_words() -> None:
    text = "Hello,  world!\nNext line "
    pieces = split_pieces(text)
    assert pieces == ["Hello,  ", "world!\n", "Next ", "line "]
    assert "".join(pieces) == text
    assert split_pieces("  lead") == ["  ", "lead"]
    assert split_pieces("") == []


def test_split_pieces_fixed_size() -> None:
    assert split_pieces("abcdefg", 3) == ["abc", "def", "g"]


def test_plan_blocks_orders_thinking_text_tools() -> None:
    ids = iter(["id1"])
    reply = ToolCalls(
        [ToolUse("lookup", {"q": "weather in Paris"})], text="Let me check.", thinking="Need data."
    )
    blocks = plan_blocks(reply, lambda: next(ids))
    assert [b.kind for b in blocks] == ["thinking", "text", "tool_use"]
    assert blocks[2].id == "id1" and blocks[2].content == '{"q": "weather in Paris"}'
    assert len(blocks[2].pieces) > 1


def test_reply_from_spec_builds_every_kind() -> None:
    assert reply_from_spec({"kind": "text", "text": "hi", "delay": 0.01}) == Text("hi", delay=0.01)
    calls = reply_from_spec({"kind": "tool_calls", "calls": [{"name": "f", "args": {"a": 1}}]})
    assert calls == ToolCalls([ToolUse("f", {"a": 1})])
    assert reply_from_spec({"kind": "status", "code": 429, "retry_after": 2}) == Status(
        429, retry_after=2
    )
    assert reply_from_spec({"kind": "drop", "after_pieces": 3}) == Drop(3)
    assert reply_from_spec({"kind": "stream_error", "after_pieces": 1}) == StreamError(1)
    hang = reply_from_spec({"kind": "hang", "seconds": 1, "then": {"kind": "text"}})
    assert hang == Hang(1, then=Text())
    assert isinstance(reply_from_spec({"kind": "echo", "prefix": "> "}), Dynamic)


@pytest.mark.parametrize(
    "spec", [{"text": "no kind"}, {"kind": "poem"}, {"kind": "text", "colour": "red"}]
)
def test_reply_from_spec_rejects_bad_specs(spec: dict) -> None:
    with pytest.raises(ValueError):
        reply_from_spec(spec)


def test_last_user_text_reads_both_request_shapes() -> None:
    anthropic_body = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "first"}]},
            {"role": "assistant", "content": "answer"},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}],
            },
        ]
    }
    assert last_user_text(anthropic_body) == "first"
    openai_body = {
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    }
    assert last_user_text(openai_body) == "q"


async def test_resolve_runs_sync_and_async_dynamic_replies() -> None:
    async def later(body: dict) -> Text:
        return Text(body["x"])

    assert await resolve(Dynamic(lambda body: Dynamic(later)), {"x": "y"}) == Text("y")
