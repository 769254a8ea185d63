"""FakeAnthropic driven by the real anthropic SDK over HTTP."""

from typing import Any

import anthropic
import httpx2
import pytest

from bot.testkit.fakes import (
    Drop,
    Dynamic,
    FakeAnthropic,
    Hang,
    Status,
    StreamError,
    Text,
    ToolCalls,
    ToolUse,
    echo,
    thinking_signature,
)

MODEL = "claude-sonnet-4-6"
ASK: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello?"}],
}


async def test_stream_text_with_thinking(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(Text("The answer is 42.", thinking="Let me work it out."))
    texts: list[str] = []
    async with claude.messages.stream(**ASK) as stream:
        async for event in stream:
            if event.type == "text":
                texts.append(event.text)
        message = await stream.get_final_message()
    assert texts == ["The ", "answer ", "is ", "42."]
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == "Let me work it out."
    assert thinking.signature == thinking_signature("Let me work it out.")
    assert text.type == "text" and text.text == "The answer is 42."
    assert message.stop_reason == "end_turn" and message.model == MODEL
    assert message.usage.output_tokens == 9  # 5 thinking pieces + 4 text pieces
    assert message.usage.input_tokens > 0


async def test_raw_event_order(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    anthropic_fake.script(Text("a b", thinking="t"))
    stream = await claude.messages.create(**ASK, stream=True)
    kinds = []
    async for event in stream:
        delta = getattr(event, "delta", None)
        kinds.append(
            f"{event.type}:{delta.type}" if event.type == "content_block_delta" else event.type
        )
    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta:thinking_delta",
        "content_block_delta:signature_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta:text_delta",
        "content_block_delta:text_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]  # the SDK skips the ping


async def test_chunk_size_and_delay(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
):
    anthropic_fake.script(Text("abcdefghij", chunk_size=4, delay=0.01))
    async with claude.messages.stream(**ASK) as stream:
        pieces = [e.text async for e in stream if e.type == "text"]
    assert pieces == ["abcd", "efgh", "ij"]


async def test_tool_use_turn(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    args = {"city": "Paris", "days": 3, "units": "metric"}
    anthropic_fake.script(
        ToolCalls([ToolUse("forecast", args, id="toolu_1"), ToolUse("clock", {})], text="Checking.")
    )
    async with claude.messages.stream(**ASK, tools=[]) as stream:
        message = await stream.get_final_message()
    text, first, second = message.content
    assert text.type == "text" and text.text == "Checking."
    assert (first.type, first.id, first.name, first.input) == (
        "tool_use",
        "toolu_1",
        "forecast",
        args,
    )
    assert second.name == "clock" and second.input == {} and second.id.startswith("toolu_")
    assert message.stop_reason == "tool_use"


async def test_non_streaming_message(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
):
    anthropic_fake.script(ToolCalls([ToolUse("f", {"x": 1})], thinking="hm"))
    message = await claude.messages.create(**ASK)
    assert [b.type for b in message.content] == ["thinking", "tool_use"]
    assert message.content[1].input == {"x": 1}
    assert message.stop_reason == "tool_use"


async def test_queue_then_default_and_recording(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(Text("one"), Text("two"))
    answers = [(await claude.messages.create(**ASK)).content[0].text for _ in range(3)]
    assert answers == ["one", "two", "ok"]
    anthropic_fake.default = Text("fallback", stop_reason="max_tokens")
    message = await claude.messages.create(**ASK)
    assert (message.content[0].text, message.stop_reason) == ("fallback", "max_tokens")
    assert len(anthropic_fake.requests) == 4
    recorded = anthropic_fake.requests[0]
    assert recorded.path == "/v1/messages" and recorded.method == "POST"
    assert recorded.json["messages"] == ASK["messages"]
    assert "anthropic-version" in recorded.headers  # header names are lower-cased
    assert recorded.received_at > 0
    anthropic_fake.script(Text("unused"))
    anthropic_fake.clear()
    assert anthropic_fake.requests == [] and anthropic_fake.pending == 0


async def test_rate_limit_carries_retry_after(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(
        Status(429, retry_after=7), Status(429, error_code="enforced_spend_limit_reached")
    )
    with pytest.raises(anthropic.RateLimitError) as caught:
        async with claude.messages.stream(**ASK) as stream:
            await stream.get_final_message()
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.RateLimitError) as caught:
        await claude.messages.create(**ASK)
    assert caught.value.body["error"]["details"] == {"error_code": "enforced_spend_limit_reached"}
    assert "retry-after" not in caught.value.response.headers


@pytest.mark.parametrize(
    ("code", "error_type", "exc"),
    [
        (529, "overloaded_error", anthropic.APIStatusError),
        (500, "api_error", anthropic.InternalServerError),
        (400, "invalid_request_error", anthropic.BadRequestError),
    ],
)
async def test_http_errors_in_anthropic_shape(
    anthropic_fake: FakeAnthropic,
    claude: anthropic.AsyncAnthropic,
    code: int,
    error_type: str,
    exc: type[Exception],
) -> None:
    anthropic_fake.script(Status(code))
    with pytest.raises(exc) as caught:
        async with claude.messages.stream(**ASK) as stream:
            await stream.get_final_message()
    assert caught.value.status_code == code
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == error_type


async def test_mid_stream_error(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    anthropic_fake.script(StreamError(after_pieces=2))
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with claude.messages.stream(**ASK) as stream:
            async for event in stream:
                if event.type == "text":
                    seen.append(event.text)
    assert len(seen) == 2
    assert caught.value.status_code == 200
    assert caught.value.body["error"]["type"] == "overloaded_error"


async def test_stream_error_without_streaming_is_an_http_error(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(StreamError(error_type="overloaded_error"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        await claude.messages.create(**ASK)
    assert caught.value.status_code == 529


async def test_dropped_stream_is_a_transport_error(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(Drop(after_pieces=3))
    seen: list[str] = []
    # Newer SDK releases wrap a transport error met mid-stream in APIConnectionError.
    with pytest.raises((httpx2.TransportError, anthropic.APIConnectionError)) as caught:
        async with claude.messages.stream(**ASK) as stream:
            async for event in stream:
                if event.type == "text":
                    seen.append(event.text)
    error = caught.value
    assert isinstance(error, httpx2.TransportError) or isinstance(
        error.__cause__, httpx2.TransportError
    )
    assert len(seen) == 3


async def test_drop_before_response_is_a_connection_error(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(Drop(after_pieces=None))
    with pytest.raises(anthropic.APIConnectionError):
        await claude.messages.create(**ASK, stream=True)


async def test_hang_times_out_then_next_reply_works(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    anthropic_fake.script(Hang(30), Text("after"))
    with pytest.raises(anthropic.APITimeoutError):
        await claude.with_options(timeout=0.2).messages.create(**ASK)
    assert (await claude.messages.create(**ASK)).content[0].text == "after"


async def test_hang_then_answers(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    anthropic_fake.script(Hang(0.05, then=Text("late")))
    assert (await claude.messages.create(**ASK)).content[0].text == "late"


async def test_dynamic_replies(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    async def by_system(body: dict[str, Any]) -> Text:
        return Text("summary" if "Summarize" in body.get("system", "") else "chat")

    anthropic_fake.script(echo("you said: "), Dynamic(by_system), Dynamic(by_system))
    first = await claude.messages.create(**ASK)
    second = await claude.messages.create(**ASK, system="Summarize the thread.")
    third = await claude.messages.create(**ASK)
    assert [m.content[0].text for m in (first, second, third)] == [
        "you said: Hello?",
        "summary",
        "chat",
    ]


async def test_thinking_must_come_back_unchanged(
    anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic
) -> None:
    def history(signature: str) -> list[dict[str, Any]]:
        thinking = {"type": "thinking", "thinking": "plan", "signature": signature}
        tool_use = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
        result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}
        return [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [thinking, tool_use]},
            {"role": "user", "content": [result]},
        ]

    ask = {"model": MODEL, "max_tokens": 2048}
    good = await claude.messages.create(**ask, messages=history(thinking_signature("plan")))
    assert good.content[0].text == "ok"
    with pytest.raises(anthropic.BadRequestError) as caught:
        await claude.messages.create(**ask, messages=history("forged"))
    assert "signature" in caught.value.body["error"]["message"]


async def test_missing_max_tokens_is_rejected(anthropic_fake: FakeAnthropic):
    async with httpx2.AsyncClient(base_url=anthropic_fake.base_url) as http:
        response = await http.post("/v1/messages", json={"model": MODEL, "messages": []})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }


async def test_count_tokens_and_models(claude: anthropic.AsyncAnthropic) -> None:
    counted = await claude.messages.count_tokens(model=MODEL, messages=ASK["messages"])
    assert counted.input_tokens > 0
    models = await claude.models.list()
    assert MODEL in [m.id for m in models.data]
    assert (await claude.models.retrieve(MODEL)).id == MODEL
    with pytest.raises(anthropic.NotFoundError):
        await claude.models.retrieve("claude-nonexistent")


async def test_api_key_is_enforced_when_set() -> None:
    async with FakeAnthropic(api_key="right") as server:
        wrong = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            await wrong.messages.create(**ASK)
        right = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="right", max_retries=0)
        assert (await right.messages.create(**ASK)).content[0].text == "ok"


async def test_wait_for_requests(anthropic_fake: FakeAnthropic, claude: anthropic.AsyncAnthropic):
    await claude.messages.create(**ASK)
    seen = await anthropic_fake.wait_for_requests(1, path="/v1/messages")
    assert seen[0].json["model"] == MODEL
    with pytest.raises(TimeoutError):
        await anthropic_fake.wait_for_requests(2, within=0.05)
