"""Runs of text deltas that arrived together become one event; everything else is untouched."""

from __future__ import annotations

import json

from bot.core.sse_merge import DeltaMerger


def anthropic_delta(text: str, index: int = 0, kind: str = "text_delta") -> bytes:
    field = {"text_delta": "text", "thinking_delta": "thinking"}.get(kind, "partial_json")
    data = {"type": "content_block_delta", "index": index, "delta": {"type": kind, field: text}}
    return b"event: content_block_delta\ndata: %s\n\n" % json.dumps(data).encode()


def openai_chunk(delta: dict, finish: str | None = None) -> bytes:
    data = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "qwen3-8b",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: %s\n\n" % json.dumps(data).encode()


def events(body: bytes) -> list[tuple[str | None, dict | str]]:
    """The (event name, data) pairs a client decodes from ``body``."""
    found = []
    for block in body.split(b"\n\n"):
        if not block:
            continue
        name, data = None, ""
        for line in block.decode().split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
        try:
            found.append((name, json.loads(data)))
        except ValueError:
            found.append((name, data))
    return found


PING = b'event: ping\ndata: {"type":"ping"}\n\n'
STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'


def test_consecutive_text_deltas_of_one_block_become_one_with_the_same_text() -> None:
    merger = DeltaMerger()
    body = anthropic_delta("Deploys ") + anthropic_delta("run at ") + anthropic_delta("ten. ✓")
    out = merger.feed(body + STOP)
    assert events(out) == [
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Deploys run at ten. ✓"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ]
    assert merger.deltas == 3


def test_other_events_pass_through_byte_for_byte_and_keep_their_place() -> None:
    merger = DeltaMerger()
    signature = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"signature_delta","signature":"c2ln"}}\n\n'
    )
    comment = b": keep-alive\n\n"
    body = (
        anthropic_delta("Let me ", kind="thinking_delta")
        + anthropic_delta("think.", kind="thinking_delta")
        + signature
        + PING
        + anthropic_delta("x", index=1)
        + anthropic_delta("y", index=2)
        + comment
    )
    out = merger.feed(body)
    assert signature + PING in out and out.endswith(comment)
    decoded = events(out)
    assert decoded[0][1]["delta"] == {"type": "thinking_delta", "thinking": "Let me think."}
    assert [data["delta"]["text"] for _, data in decoded[3:5]] == ["x", "y"]
    assert len(decoded) == 6


def test_an_event_cut_by_the_network_waits_for_its_second_half() -> None:
    merger = DeltaMerger()
    body = anthropic_delta("Hello") + anthropic_delta(" world")
    first, second = body[:30], body[30:]
    assert merger.feed(first) == b""
    assert events(merger.feed(second))[0][1]["delta"]["text"] == "Hello world"
    assert merger.feed(anthropic_delta("!")[:10]) == b""
    assert merger.flush() == anthropic_delta("!")[:10]


def test_a_body_with_carriage_returns_passes_through_unparsed() -> None:
    merger = DeltaMerger()
    half = anthropic_delta("a")[:20]
    assert merger.feed(half) == b""
    crlf = anthropic_delta("a").replace(b"\n", b"\r\n")
    assert merger.feed(crlf) == half + crlf
    assert merger.feed(anthropic_delta("b") + anthropic_delta("c")) == (
        anthropic_delta("b") + anthropic_delta("c")
    )


def test_openai_content_chunks_merge_but_not_a_role_change_tool_call_or_the_end() -> None:
    merger = DeltaMerger()
    tool = {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}], "content": None}
    body = (
        openai_chunk({"role": "assistant", "content": ""})
        + openai_chunk({"content": "Par"})
        + openai_chunk({"content": "is"})
        + openai_chunk(tool)
        + openai_chunk(tool)
        + openai_chunk({"content": "."}, finish="stop")
        + b"data: [DONE]\n\n"
    )
    decoded = events(merger.feed(body))
    deltas = [data["choices"][0]["delta"] for _, data in decoded if isinstance(data, dict)]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Paris"},
        tool,
        tool,
        {"content": "."},
    ]
    assert decoded[-1] == (None, "[DONE]")
