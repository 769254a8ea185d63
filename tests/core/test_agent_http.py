"""The agent service over real HTTP against the fake Anthropic and OpenAI-compatible servers:
retries, stream failures, fallback and error messages as a user would see them."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.core.agent import AgentService, ModelCheckError
from bot.core.events import Done, Failed, Notice
from bot.testkit.fakes import Drop, FakeAnthropic, FakeOpenAI, Hang, Status, StreamError, Text
from bot.testkit.fakes.script import PARTIAL_TEXT
from tests.core.helpers import TEST_KEY, ask, collect, terminal, text_of, thinking_of

MakeService = Callable[..., AgentService]


def claude(make_service: MakeService, server: FakeAnthropic, **overrides: object) -> AgentService:
    return make_service(anthropic_base_url=server.base_url, **overrides)


def retry_waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]


async def test_429_then_529_then_success_gives_one_answer(
    make_service: MakeService, anthropic_fake: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "teammate.core")
    anthropic_fake.script(Status(429, retry_after=1), Status(529), Text("The deploy is done."))
    events = await collect(claude(make_service, anthropic_fake), ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == "The deploy is done."
    assert len(anthropic_fake.requests) == 3
    waits = retry_waits(caplog)
    assert "status 429" in waits[0] and "retrying in 1.0 s" in waits[0]


async def test_a_huge_retry_after_is_capped(
    make_service: MakeService, anthropic_fake: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "teammate.core")
    anthropic_fake.script(Status(429, retry_after=3600), Text("Answered."))
    service = claude(make_service, anthropic_fake, retry_max_wait=0.1)
    events = await collect(service, ask())
    assert text_of(events) == "Answered."
    assert "retrying in 0.1 s" in retry_waits(caplog)[0]


async def test_a_400_fails_with_a_reference_and_no_secret_anywhere(
    make_service: MakeService, anthropic_fake: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_fake.script(Status(400, message=f"header x-api-key: {TEST_KEY} is malformed"))
    events = await collect(claude(make_service, anthropic_fake), ask())
    failed = terminal(events)
    assert isinstance(failed, Failed)
    assert failed.message.startswith("Claude Haiku 4.5 rejected the request (HTTP 400)")
    assert TEST_KEY not in failed.message and "malformed" not in failed.message
    assert len(anthropic_fake.requests) == 1  # never retried
    (line,) = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert failed.reference in line and "status=400" in line
    assert TEST_KEY not in line and "sk-ant" not in line
    assert TEST_KEY not in caplog.text


async def test_a_stream_error_after_text_ends_the_answer_as_cut_off(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(StreamError(after_pieces=4), Text("must not be used"))
    events = await collect(claude(make_service, anthropic_fake), ask())
    failed = terminal(events)
    assert isinstance(failed, Failed)
    assert failed.message.startswith("The answer was cut off: the model is overloaded")
    shown = text_of(events)
    assert shown and PARTIAL_TEXT.startswith(shown)
    assert "must not be used" not in shown
    assert len(anthropic_fake.requests) == 1


async def test_a_dropped_stream_after_text_is_cut_off_too(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Drop(after_pieces=3), Text("must not be used"))
    events = await collect(claude(make_service, anthropic_fake), ask())
    failed = terminal(events)
    assert isinstance(failed, Failed) and "cut off" in failed.message
    assert "connection" in failed.message
    assert PARTIAL_TEXT.startswith(text_of(events))
    assert len(anthropic_fake.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [StreamError(after_pieces=0), Drop(after_pieces=0), Drop(after_pieces=None)],
    ids=["error-event", "dropped-stream", "dropped-connection"],
)
async def test_a_failure_before_any_text_is_retried_transparently(
    make_service: MakeService, anthropic_fake: FakeAnthropic, failure: object
) -> None:
    anthropic_fake.script(failure, Text("Recovered answer."))  # type: ignore[arg-type]
    events = await collect(claude(make_service, anthropic_fake), ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == "Recovered answer."
    assert len(anthropic_fake.requests) == 2


async def test_overloaded_until_retries_run_out_answers_from_the_fallback(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Status(529), Status(529), Status(529), Text("Haiku here."))
    service = claude(
        make_service,
        anthropic_fake,
        model="claude-sonnet-4-6",
        fallback_model="claude-haiku-4-5",
        retry_attempts=3,
    )
    events = await collect(service, ask())
    done = terminal(events)
    assert isinstance(done, Done)
    assert done.fallback_from == "Claude Sonnet 4.6" and done.model_label == "Claude Haiku 4.5"
    assert Notice("Claude Sonnet 4.6 was overloaded; answered by Claude Haiku 4.5.") in events
    assert text_of(events) == "Haiku here."
    models = [r.json["model"] for r in anthropic_fake.requests]
    assert models == ["claude-sonnet-4-6"] * 3 + ["claude-haiku-4-5"]


async def test_a_fallback_on_another_provider(
    make_service: MakeService, anthropic_fake: FakeAnthropic, openai_fake: FakeOpenAI
) -> None:
    anthropic_fake.script(Status(503), Status(503))
    openai_fake.script(Text("Answered locally."))
    service = claude(
        make_service,
        anthropic_fake,
        openai_base_url=openai_fake.v1_url,
        fallback_model="openai:qwen3-8b",
        retry_attempts=2,
    )
    events = await collect(service, ask())
    done = terminal(events)
    assert isinstance(done, Done) and done.model_label == "qwen3-8b"
    assert Notice("Claude Haiku 4.5 was unavailable; answered by qwen3-8b.") in events


async def test_a_refused_key_and_an_unknown_model_say_what_to_check(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    service = claude(make_service, anthropic_fake)
    anthropic_fake.script(Status(401), Status(404))
    refused = terminal(await collect(service, ask()))
    unknown = terminal(await collect(service, ask()))
    assert isinstance(refused, Failed) and "ANTHROPIC_API_KEY" in refused.message
    assert isinstance(unknown, Failed) and "TEAMMATE_MODEL" in unknown.message
    assert len(anthropic_fake.requests) == 2


async def test_an_unreachable_server_names_its_host(make_service: MakeService) -> None:
    async with FakeAnthropic() as server:
        url = server.base_url
    service = make_service(anthropic_base_url=url, retry_attempts=2)
    failed = terminal(await collect(service, ask()))
    assert isinstance(failed, Failed)
    assert failed.message.startswith(f"Could not reach the model at {url.split('//')[1]}")


async def test_a_silent_server_times_out(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Hang(5))
    service = claude(make_service, anthropic_fake, request_timeout=0.3)
    failed = terminal(await collect(service, ask()))
    assert isinstance(failed, Failed) and "did not answer in time" in failed.message


async def test_deep_mode_sends_thinking_on_the_wire(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Text("42.", thinking="Six times seven."))
    events = await collect(claude(make_service, anthropic_fake), ask(deep=True))
    assert thinking_of(events) == "Six times seven."
    assert text_of(events) == "42."
    body = anthropic_fake.requests[0].json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    assert body["max_tokens"] > body["thinking"]["budget_tokens"]
    assert body["stream"] is True
    assert "Dana: What is our deploy process?" in str(body["messages"][-1])
    assert "Teammate" in str(body["system"])


async def test_openai_compatible_streams_text_and_reasoning(
    make_service: MakeService, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script(Text("Paris.", thinking="The capital of France."))
    service = make_service(openai_base_url=openai_fake.v1_url)
    events = await collect(service, ask("Capital of France?", model="openai:qwen3-8b", deep=True))
    done = terminal(events)
    assert isinstance(done, Done) and done.model_label == "qwen3-8b"
    assert thinking_of(events) == "The capital of France."
    assert text_of(events) == "Paris."
    assert done.usage.cost_usd == 0.0 and done.usage.output_tokens > 0
    body = openai_fake.requests[0].json
    assert body["model"] == "qwen3-8b" and body["reasoning_effort"] == "high"


async def test_openai_compatible_retries_and_stream_errors(
    make_service: MakeService, openai_fake: FakeOpenAI
) -> None:
    service = make_service(openai_base_url=openai_fake.v1_url, model="openai:qwen3-8b")
    openai_fake.script(Status(429, retry_after=0), Status(503), Drop(after_pieces=0), Text("ok"))
    events = await collect(service, ask())
    assert text_of(events) == "ok" and len(openai_fake.requests) == 4
    openai_fake.script(StreamError(after_pieces=2))
    events = await collect(service, ask())
    failed = terminal(events)
    assert isinstance(failed, Failed) and "cut off" in failed.message


async def test_check_model_reports_ok_or_the_cause(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    service = claude(make_service, anthropic_fake)
    line = await service.check_model()
    assert line.startswith("OK: Claude Haiku 4.5") and "\n" not in line
    assert anthropic_fake.requests[0].json["max_tokens"] == 1
    anthropic_fake.script(Status(401))
    with pytest.raises(ModelCheckError) as info:
        await service.check_model("claude-sonnet-4-6")
    assert "ANTHROPIC_API_KEY" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ModelCheckError, match="TEAMMATE_MODEL"):
        await service.check_model("nonsense")


async def test_the_embedded_model_gets_its_own_settings_prompt_and_examples(
    make_service: MakeService, prompts, catalog
) -> None:
    async with FakeOpenAI(models=("SmolLM2-135M-Instruct",)) as server:
        server.script(Text("The capital of France is Paris."))
        service = make_service(local_model_url=server.v1_url)
        events = await collect(service, ask("What is the capital of France?", model="local"))
        done = terminal(events)
        assert isinstance(done, Done) and text_of(events) == "The capital of France is Paris."
        [request] = server.requests  # usage came with the stream: nothing counted again
        body = request.json
    assert body["temperature"] == 0 and body["max_tokens"] == 256
    assert body["messages"][0] == {
        "role": "system",
        "content": prompts.templates["embedded.md"].strip(),
    }
    # The catalog's example exchanges come first, as earlier turns of the chat.
    examples = catalog.resolve("local").examples
    assert examples
    sent = [(m["role"], m["content"]) for m in body["messages"][1:-1]]
    assert sent == [turn for q, a in examples for turn in (("user", q), ("assistant", a))]
    assert body["messages"][-1]["role"] == "user"
    assert "capital of France" in body["messages"][-1]["content"]
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
