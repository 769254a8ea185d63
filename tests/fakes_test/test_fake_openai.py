"""FakeOpenAI driven by the real openai SDK over HTTP."""

import json
from typing import Any

import openai
import pytest

from bot.testkit.fakes import (
    Drop,
    FakeOpenAI,
    Hang,
    Status,
    StreamError,
    Text,
    ToolCalls,
    ToolUse,
)

ASK: dict[str, Any] = {"model": "fake-model", "messages": [{"role": "user", "content": "Hi?"}]}


async def collect(client: openai.AsyncOpenAI, **extra: Any) -> list[Any]:
    stream = await client.chat.completions.create(**ASK, stream=True, **extra)
    return [chunk async for chunk in stream]


async def test_stream_with_usage_and_reasoning(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI):
    openai_fake.script(Text("Fine, thanks.", thinking="Be polite."))
    chunks = await collect(oai, stream_options={"include_usage": True})
    first, *middle, finish, usage = chunks
    assert first.choices[0].delta.role == "assistant"
    reasoning = "".join(
        (c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in middle
    )
    content = "".join(c.choices[0].delta.content or "" for c in middle)
    assert reasoning == "Be polite." and content == "Fine, thanks."
    assert finish.choices[0].finish_reason == "stop"
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.completion_tokens == 4  # 2 reasoning pieces + 2 text pieces
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + 4


async def test_no_usage_chunk_unless_asked(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI):
    chunks = await collect(oai)
    assert all(c.choices for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"


async def test_reasoning_field_names_are_configurable(oai: openai.AsyncOpenAI) -> None:
    async with FakeOpenAI(reasoning_fields=("reasoning", "reasoning_content")) as server:
        client = openai.AsyncOpenAI(base_url=server.v1_url, api_key="test", max_retries=0)
        server.script(Text("x", thinking="why"))
        chunks = await collect(client)
        extra = chunks[1].choices[0].delta.model_extra
        assert extra == {"reasoning": "why", "reasoning_content": "why"}


async def test_tool_calls_reassemble(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI) -> None:
    first_args = {"query": "quarterly revenue by region", "limit": 25}
    openai_fake.script(
        ToolCalls([ToolUse("search", first_args, id="call_a"), ToolUse("now", {})], text="Looking.")
    )
    calls: dict[int, dict[str, str]] = {}
    content, finish = "", None
    for chunk in await collect(oai, tools=[]):
        choice = chunk.choices[0]
        content += choice.delta.content or ""
        finish = choice.finish_reason or finish
        for call in choice.delta.tool_calls or []:
            slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] += call.id or ""
            slot["name"] += (call.function.name or "") if call.function else ""
            slot["arguments"] += (call.function.arguments or "") if call.function else ""
    assert content == "Looking." and finish == "tool_calls"
    assert calls[0]["id"] == "call_a" and calls[0]["name"] == "search"
    assert json.loads(calls[0]["arguments"]) == first_args
    assert calls[1]["name"] == "now" and json.loads(calls[1]["arguments"]) == {}
    assert calls[1]["id"].startswith("call_")


async def test_non_streaming_completion(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI):
    openai_fake.script(
        Text("Cut short", stop_reason="max_tokens"), ToolCalls([ToolUse("f", {"a": 1})])
    )
    completion = await oai.chat.completions.create(**ASK)
    assert completion.choices[0].message.content == "Cut short"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 2
    completion = await oai.chat.completions.create(**ASK)
    (call,) = completion.choices[0].message.tool_calls or []
    assert call.function.name == "f" and json.loads(call.function.arguments) == {"a": 1}
    assert completion.choices[0].finish_reason == "tool_calls"


async def test_rate_limit_carries_retry_after(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI):
    openai_fake.script(Status(429, retry_after=2.5))
    with pytest.raises(openai.RateLimitError) as caught:
        await collect(oai)
    assert caught.value.response.headers["retry-after"] == "2.5"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.body == {
        "message": "Rate limit reached for requests.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


@pytest.mark.parametrize(
    ("code", "exc"),
    [
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
async def test_http_errors_in_openai_shape(
    openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI, code: int, exc: type[Exception]
) -> None:
    openai_fake.script(Status(code, message="nope"))
    with pytest.raises(exc) as caught:
        await collect(oai)
    assert caught.value.status_code == code
    assert caught.value.message.endswith("nope") or "nope" in str(caught.value)


async def test_mid_stream_error(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI) -> None:
    openai_fake.script(StreamError(after_pieces=2, error_type="server_error", message="boom"))
    stream = await oai.chat.completions.create(**ASK, stream=True)
    seen: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        async for chunk in stream:
            seen.append(chunk.choices[0].delta.content or "")
    assert seen == ["", "This ", "answer "]  # the role chunk, then two pieces
    assert caught.value.message == "boom"
    assert caught.value.body == {
        "message": "boom",
        "type": "server_error",
        "param": None,
        "code": None,
    }


async def test_dropped_stream(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI) -> None:
    openai_fake.script(Drop(after_pieces=1), Drop(after_pieces=None))
    stream = await oai.chat.completions.create(**ASK, stream=True)
    with pytest.raises(openai.APIConnectionError):
        async for _ in stream:
            pass
    with pytest.raises(openai.APIConnectionError):
        await collect(oai)


async def test_hang_times_out(openai_fake: FakeOpenAI, oai: openai.AsyncOpenAI) -> None:
    openai_fake.script(Hang(30))
    with pytest.raises(openai.APITimeoutError):
        await oai.with_options(timeout=0.2).chat.completions.create(**ASK)


async def test_models_and_bare_base_url(openai_fake: FakeOpenAI) -> None:
    for base_url in (openai_fake.v1_url, openai_fake.base_url):
        client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
        models = await client.models.list()
        assert [m.id for m in models.data] == ["fake-model"]
        completion = await client.chat.completions.create(**ASK)
        assert completion.choices[0].message.content == "ok"
    assert openai_fake.openai_base_url == openai_fake.sdk_base_url == openai_fake.v1_url
    paths = {r.path for r in openai_fake.requests}
    assert paths == {"/v1/models", "/models", "/v1/chat/completions", "/chat/completions"}


async def test_api_key_and_missing_messages() -> None:
    async with FakeOpenAI(api_key="right") as server:
        wrong = openai.AsyncOpenAI(base_url=server.v1_url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            await wrong.chat.completions.create(**ASK)
        assert caught.value.code == "invalid_api_key"
        right = openai.AsyncOpenAI(base_url=server.v1_url, api_key="right", max_retries=0)
        with pytest.raises(openai.BadRequestError):
            await right.chat.completions.create(model="fake-model", messages=[])
