"""The agent service over pydantic-ai FunctionModels: events, history, window, deep mode,
stalls, stream errors and fallback, without any protocol in the way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from typing import Any

import pytest
from pydantic_ai import RunContext
from pydantic_ai.exceptions import ModelHTTPError, ModelOverloadedError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, DeltaToolCall, FunctionModel
from pydantic_ai.toolsets import FunctionToolset

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Scope, Turn
from bot.core.deps import AnswerDeps
from bot.core.events import (
    Done,
    Failed,
    Notice,
    Risk,
    TextDelta,
    ToolFinished,
    ToolStarted,
    Usage,
)
from bot.core.prompts import Prompts
from tests.core.helpers import (
    FAST_RETRIES,
    ScriptedProviders,
    ask,
    collect,
    scope,
    terminal,
    text_of,
    thinking_of,
)


class Recorder:
    """A stream function that records what the model was given and replays scripted chunks.

    Each call takes the next script; a script item that is an exception is raised there.
    """

    def __init__(self, *scripts: list[Any]) -> None:
        self.scripts = list(scripts)
        self.calls: list[tuple[list[ModelMessage], AgentInfo]] = []

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        self.calls.append((messages, info))
        script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        for item in script:
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, float):
                await asyncio.sleep(item)
                continue
            yield item


def service_with(
    catalog: Catalog, prompts: Prompts, models: dict[str, Recorder], **config: Any
) -> AgentService:
    core = replace(FAST_RETRIES, **config)
    scripted = {key: FunctionModel(stream_function=fn) for key, fn in models.items()}
    return AgentService(core, catalog, prompts, providers=ScriptedProviders(core, scripted))


def overloaded(in_stream: bool = False) -> ModelHTTPError:
    return ModelHTTPError.for_category(
        ModelOverloadedError, status_code=529, model_name="m", in_stream=in_stream
    )


async def test_streams_thinking_text_usage_and_done(catalog: Catalog, prompts: Prompts) -> None:
    model = Recorder(
        [{0: DeltaThinkingPart(content="Checking the runbook.")}, "The deploy ", "runs at 10."]
    )
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    events = await collect(service, ask())
    assert thinking_of(events) == "Checking the runbook."
    assert text_of(events) == "The deploy runs at 10."
    done = terminal(events)
    assert isinstance(done, Done)
    assert done.model_label == "Claude Haiku 4.5" and done.fallback_from is None
    (usage,) = [e for e in events if isinstance(e, Usage)]
    assert events[-2] is usage and done.usage == usage
    assert usage.model == "claude-haiku-4-5" and usage.input_tokens > 0
    haiku = catalog.resolve("claude-haiku-4-5")
    assert usage.cost_usd == pytest.approx(
        (usage.input_tokens * haiku.price_in + usage.output_tokens * haiku.price_out) / 1e6
    )


async def test_the_model_gets_history_speakers_and_the_system_prompt(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder(["Version 4.2."])
    service = service_with(catalog, prompts, {"claude-sonnet-4-6": model})
    conversation = Conversation(
        turns=[
            Turn("user", "Is the deploy done?", "Ana"),
            Turn("assistant", "Yes, at 10:02."),
            Turn("user", "Which version?", "Dana"),
        ],
        scope=scope("Acme", "deploys", "Dana"),
        model="claude-sonnet-4-6",
    )
    events = await collect(service, conversation)
    assert isinstance(terminal(events), Done)
    ((messages, info),) = model.calls
    assert isinstance(messages[0], ModelRequest) and isinstance(messages[1], ModelResponse)
    assert messages[0].parts[0].content == "Ana: Is the deploy done?"
    assert messages[1].parts[0].content == "Yes, at 10:02."
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    prompt_parts = [p for p in last.parts if isinstance(p, UserPromptPart)]
    assert prompt_parts[-1].content == "Dana: Which version?"
    assert info.instructions is not None
    assert "Teammate" in info.instructions and "#deploys" in info.instructions


async def test_a_long_thread_is_trimmed_with_a_notice_before_the_text(prompts: Prompts) -> None:
    small = {
        "provider": "openai",
        "model": "small",
        "label": "Small",
        "context_window": 4000,
        "max_output": 500,
    }
    catalog = Catalog.from_dict({"models": {"small": small}, "aliases": {"fast": "small"}})
    model = Recorder(["Short answer."])
    service = service_with(catalog, prompts, {"small": model})
    turns = [Turn("user", f"message {i}: " + "words " * 60, f"P{i}") for i in range(60)]
    turns.append(Turn("user", "So what do we do?", "Dana"))
    events = await collect(service, Conversation(turns=turns))
    notice = events[0]
    assert isinstance(notice, Notice)
    assert notice.text.startswith("This thread is long, so the ")
    assert notice.text.endswith(" oldest messages were left out.")
    dropped = int(notice.text.split("the ")[1].split(" ")[0])
    assert 0 < dropped < 60
    assert events.index(notice) < next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    ((messages, _),) = model.calls
    sent = "\n".join(p.content for m in messages for p in m.parts if isinstance(p, UserPromptPart))
    assert "Dana: So what do we do?" in sent
    assert f"message {dropped}:" in sent and f"message {dropped - 1}:" not in sent


async def test_deep_mode_asks_for_thinking_the_model_way(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder(["ok"])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    await collect(service, ask(deep=True))
    await collect(service, ask(deep=False))
    deep_settings, plain_settings = (info.model_settings or {} for _, info in model.calls)
    assert deep_settings.get("anthropic_thinking", {}).get("type") == "enabled"
    assert "anthropic_thinking" not in plain_settings


async def test_a_stream_that_goes_quiet_after_text_is_cut_off(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder(["Here is the start", 3.0, " and the end."])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model}, stream_idle_timeout=0.2)
    events = await collect(service, ask())
    failed = terminal(events)
    assert isinstance(failed, Failed)
    assert text_of(events) == "Here is the start"
    assert "cut off" in failed.message and "stopped sending" in failed.message
    assert len(failed.reference) == 8


async def test_an_in_stream_error_before_text_is_retried_transparently(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder([overloaded(in_stream=True)], ["Second try works."])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    events = await collect(service, ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == "Second try works."
    assert len(model.calls) == 2


async def test_an_in_stream_error_after_text_is_not_retried(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder(["Partial ", "answer", overloaded(in_stream=True)], ["never"])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    events = await collect(service, ask())
    failed = terminal(events)
    assert isinstance(failed, Failed)
    assert failed.message.startswith("The answer was cut off: the model is overloaded")
    assert text_of(events) == "Partial answer"
    assert len(model.calls) == 1


async def test_an_exhausted_overload_falls_back_to_the_fallback_model(
    catalog: Catalog, prompts: Prompts
) -> None:
    primary = Recorder([overloaded()])
    fallback = Recorder(["From Haiku."])
    service = service_with(
        catalog,
        prompts,
        {"claude-sonnet-4-6": primary, "claude-haiku-4-5": fallback},
        model="claude-sonnet-4-6",
        fallback_model="fast",
    )
    events = await collect(service, ask())
    done = terminal(events)
    assert isinstance(done, Done)
    assert done.model_label == "Claude Haiku 4.5"
    assert done.fallback_from == "Claude Sonnet 4.6"
    assert Notice("Claude Sonnet 4.6 was overloaded; answered by Claude Haiku 4.5.") in events
    assert text_of(events) == "From Haiku."
    assert len(primary.calls) == 1  # the transport retries HTTP; a plain error is not retried here


async def test_without_a_fallback_an_overload_fails_with_a_reference(
    catalog: Catalog, prompts: Prompts, caplog: pytest.LogCaptureFixture
) -> None:
    service = service_with(catalog, prompts, {"claude-haiku-4-5": Recorder([overloaded()])})
    events = await collect(service, ask())
    failed = terminal(events)
    assert isinstance(failed, Failed)
    assert failed.message == "Claude Haiku 4.5 is overloaded right now. Try again shortly."
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "teammate.core"]
    assert len(errors) == 1 and failed.reference in errors[0].getMessage()


async def test_an_unknown_model_setting_fails_clearly(catalog: Catalog, prompts: Prompts) -> None:
    service = service_with(catalog, prompts, {})
    failed = terminal(await collect(service, ask(model="gpt-nine")))
    assert isinstance(failed, Failed)
    assert "gpt-nine" in failed.message and "provider:model" in failed.message


async def test_a_missing_api_key_names_the_setting(catalog: Catalog, prompts: Prompts) -> None:
    service = AgentService(CoreConfig(), catalog, prompts)
    failed = terminal(await collect(service, ask()))
    assert isinstance(failed, Failed) and "ANTHROPIC_API_KEY" in failed.message
    await service.aclose()


async def test_stopping_early_tears_the_run_down_cleanly(
    catalog: Catalog, prompts: Prompts
) -> None:
    model = Recorder(["one ", 0.05, "two ", 0.05, "three"])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    async with aclosing(service.stream(ask())) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break
    events_after = await collect(service, ask())
    assert text_of(events_after) == "one two three"
    assert isinstance(terminal(events_after), Done)


async def test_many_conversations_stream_at_once(catalog: Catalog, prompts: Prompts) -> None:
    model = Recorder(["a ", 0.01, "b"])
    service = service_with(catalog, prompts, {"claude-haiku-4-5": model})
    results = await asyncio.gather(*(collect(service, ask(f"q{i}")) for i in range(20)))
    assert all(text_of(events) == "a b" for events in results)
    assert all(isinstance(terminal(events), Done) for events in results)


class OneToolbox:
    """Offers the same toolset in every scope."""

    def __init__(self, toolset: FunctionToolset[AnswerDeps]) -> None:
        self.toolset = toolset

    def toolsets(self, scope: Scope) -> list[FunctionToolset[AnswerDeps]]:
        return [self.toolset]

    def title(self, name: str, args: dict[str, Any]) -> str:
        return name

    def risk(self, name: str) -> Risk:
        return "read"


async def test_a_request_that_breaks_after_a_tool_call_is_tried_again_alone(
    catalog: Catalog, prompts: Prompts
) -> None:
    seen: list[str] = []
    tools: FunctionToolset[AnswerDeps] = FunctionToolset()

    @tools.tool
    def deploy_status(ctx: RunContext[AnswerDeps]) -> str:
        """The state of the last deploy."""
        seen.append(ctx.deps.scope.channel_id)
        return "green"

    model = Recorder(
        [{0: DeltaToolCall("deploy_status", "{}", tool_call_id="call_1")}],
        [overloaded(in_stream=True)],
        ["All green."],
    )
    scripted = {"claude-haiku-4-5": FunctionModel(stream_function=model)}
    service = AgentService(
        FAST_RETRIES,
        catalog,
        prompts,
        providers=ScriptedProviders(FAST_RETRIES, scripted),
        toolbox=OneToolbox(tools),
    )
    events = await collect(service, ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == "All green."
    assert seen == ["C1"]  # the tool ran once, and knew where it was asked
    assert len(model.calls) == 3  # the tool call, the broken request, its second try
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [e.name for e in started] == ["deploy_status"]
    assert [(e.outcome, e.summary) for e in finished] == [("success", "green")]


async def test_each_answer_records_its_usage_with_its_scope(
    catalog: Catalog, prompts: Prompts
) -> None:
    recorded: list[tuple[Scope, Usage, str, str | None]] = []

    class Recording:
        async def record(
            self, scope: Scope, usage: Usage, status: str, reference: str | None = None
        ) -> None:
            recorded.append((scope, usage, status, reference))

    scripted = {"claude-haiku-4-5": FunctionModel(stream_function=Recorder(["Fine."]))}
    service = AgentService(
        FAST_RETRIES,
        catalog,
        prompts,
        providers=ScriptedProviders(FAST_RETRIES, scripted),
        usage=Recording(),
    )
    await collect(service, ask())
    failing = {"claude-haiku-4-5": FunctionModel(stream_function=Recorder([overloaded()]))}
    service = AgentService(
        FAST_RETRIES,
        catalog,
        prompts,
        providers=ScriptedProviders(FAST_RETRIES, failing),
        usage=Recording(),
    )
    failed = terminal(await collect(service, ask()))
    assert isinstance(failed, Failed)
    (done_scope, done_usage, done, _), (_, _, status, reference) = recorded
    assert done == "done" and done_usage.model == "claude-haiku-4-5"
    assert done_scope.channel_id == "C1" and done_scope.channel_kind == "public"
    assert status == "failed" and reference == failed.reference
