"""The agent service: answers a :class:`Conversation` as a stream of :mod:`bot.core.events`.

One pydantic-ai run per answer. The run is given its deps (the conversation's
:class:`~bot.core.conversation.Scope` and the answer's models) and the toolsets the
:class:`~bot.core.tools.Toolbox` offers in that scope; the :class:`RequestPolicy` capability
sets each request's settings, retries a request that broke before it showed anything and hands
a failing model's requests to the fallback — per request, so a tool call is never repeated.
The service fits the thread into the model's window, maps the run's events to core events,
ends a stream that goes quiet, turns every failure into one short ``Failed`` event whose
reference id matches an ERROR log line, and records each answer's usage with its scope.

Consume :meth:`AgentService.stream` to the end, or close it with ``contextlib.aclosing`` when
stopping early, so the model request is torn down in the caller's task.

Usage::

    service = AgentService(config, Catalog.load(), Prompts.load(), usage=UsageLog(db))
    async with aclosing(service.stream(conversation)) as events:
        async for event in events:
            ...
    await service.aclose()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from pydantic_ai import Agent, AgentRunResult
from pydantic_ai.direct import model_request
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import ModelRequest

from bot.core import wording
from bot.core.catalog import Catalog, CatalogError, ModelSpec
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Scope
from bot.core.deps import AnswerDeps, AnswerState
from bot.core.events import AgentEvent, Done, Failed, Notice, TextDelta, ToolStarted, Usage
from bot.core.failures import StreamStalled, classify, log_failure
from bot.core.history import Prompted, example_messages, to_messages
from bot.core.local_tokens import counted_usage
from bot.core.model_settings import probe_settings
from bot.core.prompts import Prompts
from bot.core.providers import Providers
from bot.core.references import new_reference
from bot.core.request_policy import RequestPolicy
from bot.core.stream_map import EventMapper
from bot.core.tools import NoTools, Toolbox
from bot.core.window import fit_turns, input_budget

log = logging.getLogger("teammate.core")


class ModelCheckError(Exception):
    """The model check failed; the message is one line: the cause and the fix."""


class UsageRecorder(Protocol):
    async def record(
        self, scope: Scope, usage: Usage, status: str, reference: str | None = None
    ) -> None: ...


@dataclass(slots=True)
class _Shown:
    """What one answer has shown so far."""

    visible: bool = False
    notices: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


class AgentService:
    """Answers conversations with the catalog's models.

    ``providers`` is for tests that substitute models; the default builds them from ``config``.
    ``toolbox`` chooses the tools per scope (default: none); ``usage`` records each answer.
    """

    def __init__(
        self,
        config: CoreConfig,
        catalog: Catalog,
        prompts: Prompts,
        *,
        providers: Providers | None = None,
        toolbox: Toolbox | None = None,
        usage: UsageRecorder | None = None,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._prompts = prompts
        self._providers = providers if providers is not None else Providers(config)
        self._toolbox: Toolbox = toolbox if toolbox is not None else NoTools()
        self._usage = usage
        self._agent: Agent[AnswerDeps, str] = Agent(
            output_type=str,
            deps_type=AnswerDeps,
            name="teammate",
            capabilities=[RequestPolicy(config)],
        )

    def resolve(self, ref: str | None = None) -> ModelSpec:
        """The catalog entry ``ref`` (default: the configured model) names."""
        return self._catalog.resolve(ref or self._config.model)

    async def stream(self, conversation: Conversation) -> AsyncIterator[AgentEvent]:
        """Answer ``conversation``: deltas, notices, ``Usage``, then one ``Done`` or ``Failed``.

        The run is driven here, in the caller's task (``agent.iter``, then each node's own
        stream): an event reaches the caller with no task hand-off and through no other
        generator. One deadline per answer, moved forward as events arrive, ends a stream that
        goes quiet; it is off while an event is with the caller, before the first event (the
        HTTP timeouts apply, and retries may be waiting) and while a tool runs.
        """
        scope = conversation.scope
        try:
            primary = self.resolve(conversation.model)
        except CatalogError as exc:
            reference = new_reference()
            log.error("model request failed ref=%s kind=config detail=%s", reference, exc)
            yield Failed(wording.bad_model_setting(exc), reference)
            return
        shown = _Shown()
        answer: AnswerState | None = None
        deadline: asyncio.Timeout | None = None
        idle = self._config.stream_idle_timeout
        clock = asyncio.get_running_loop().time
        try:
            answer = self._answer_state(primary, conversation.deep)
            system = self._prompts.system(conversation, name=primary.prompt)
            turns = self._fit(conversation, primary, system, shown)
            for text in shown.notices:
                yield Notice(text)
            mapper = EventMapper()
            async with (
                asyncio.timeout(None) as deadline,
                self._agent.iter(
                    turns.prompt,
                    message_history=turns.history,
                    model=answer.primary_model,
                    deps=AnswerDeps(scope=scope, answer=answer),
                    instructions=system,
                    toolsets=self._toolbox.toolsets(scope),
                ) as run,
            ):
                async for node in run:
                    if not (Agent.is_model_request_node(node) or Agent.is_call_tools_node(node)):
                        continue
                    async with node.stream(run.ctx) as events:
                        async for event in events:
                            mapped = mapper.map(event)
                            if mapped:
                                deadline.reschedule(None)
                                for out in mapped:
                                    if isinstance(out, TextDelta | ToolStarted):
                                        shown.visible = True
                                    yield out
                            deadline.reschedule(None if mapper.tool_running else clock() + idle)
                result = run.result
            if result is not None:
                await self._count(answer, result, shown)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Failed event
            if isinstance(exc, TimeoutError) and deadline is not None and deadline.expired():
                exc = StreamStalled(idle)
            spec = answer.serving if answer is not None else primary
            failed = self._failed(exc, spec, shown)
            await self._record(scope, spec, shown, "failed", failed.reference)
            yield failed
            return
        for last in self._closing(answer, shown):
            yield last
        await self._record(scope, answer.serving, shown, "done")

    async def check_model(self, ref: str | None = None) -> str:
        """Send a one-token request; return a one-line OK or raise :class:`ModelCheckError`."""
        try:
            spec = self.resolve(ref)
        except CatalogError as exc:
            raise ModelCheckError(f"TEAMMATE_MODEL is not valid: {exc}") from None
        host = self._providers.host(spec)
        started = time.monotonic()
        try:
            model = self._providers.model(spec)
            await model_request(
                model,
                [ModelRequest.user_text_prompt("Reply with the single word OK.")],
                model_settings=probe_settings(spec),
            )
        except UnexpectedModelBehavior:
            pass  # It answered; a one-token reply may be cut short or empty.
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, spec, host)
            reference = new_reference()
            log_failure(reference, spec, exc, failure, self._config.secrets(), phase="check")
            raise ModelCheckError(f"{failure.message} (reference {reference})") from None
        elapsed = time.monotonic() - started
        return f"OK: {spec.label} ({spec.ref} at {host}) answered in {elapsed:.1f} s"

    async def aclose(self) -> None:
        """Close the HTTP clients."""
        await self._providers.aclose()

    def _answer_state(self, primary: ModelSpec, deep: bool) -> AnswerState:
        fallback = self._fallback_for(primary)
        fallback_model = None
        if fallback is not None:
            try:
                fallback_model = self._providers.model(fallback)
            except Exception as exc:  # noqa: BLE001 - a broken fallback must not stop the answer
                log.warning("fallback model %s ignored: %s", fallback.ref, exc)
                fallback = None
        return AnswerState(
            primary=primary,
            primary_model=self._providers.model(primary),
            fallback=fallback,
            fallback_model=fallback_model,
            deep=deep,
        )

    def _fallback_for(self, primary: ModelSpec) -> ModelSpec | None:
        ref = self._config.fallback_model
        if not ref:
            return None
        try:
            fallback = self._catalog.resolve(ref)
        except CatalogError as exc:
            log.warning("fallback model ignored: %s", exc)
            return None
        return None if fallback.ref == primary.ref else fallback

    def _fit(
        self, conversation: Conversation, spec: ModelSpec, system: str, shown: _Shown
    ) -> Prompted:
        """The thread as the model will get it, trimmed to its window (with a notice if so),
        after the catalog entry's example turns (counted against the window too)."""
        shown_first = "\n".join([system, *(text for pair in spec.examples for text in pair)])
        fitted = fit_turns(
            conversation.turns,
            input_budget(spec.context_window, spec.max_output, shown_first),
            spec.label,
        )
        if fitted.dropped or fitted.question_chars_cut:
            log.info(
                "conversation trimmed for %s: %d turns dropped, %d characters cut",
                spec.ref,
                fitted.dropped,
                fitted.question_chars_cut,
            )
        shown.notices.extend(fitted.notices)
        prompted = to_messages(fitted.turns)
        return Prompted(example_messages(spec.examples) + prompted.history, prompted.prompt)

    @staticmethod
    async def _count(answer: AnswerState, result: AgentRunResult[str], shown: _Shown) -> None:
        model = answer.fallback_model if answer.on_fallback else answer.primary_model
        run_usage = await counted_usage(model or answer.primary_model, result)
        shown.input_tokens = run_usage.input_tokens
        shown.output_tokens = run_usage.output_tokens

    def _closing(self, answer: AnswerState, shown: _Shown) -> list[AgentEvent]:
        """What ends a finished answer: the notices for its footer, its usage, then ``Done``."""
        spec, served = answer.primary, answer.serving
        closing: list[AgentEvent] = []
        if answer.fallback_kind is not None and answer.fallback is not None:
            closing.append(
                Notice(wording.fallback_notice(spec.label, answer.fallback_kind, served.label))
            )
        if served.note:
            closing.append(Notice(served.note))
        usage = self._usage_of(served, shown)
        closing.append(usage)
        closing.append(
            Done(
                model_label=served.label,
                usage=usage,
                fallback_from=spec.label if served is not spec else None,
            )
        )
        return closing

    @staticmethod
    def _usage_of(spec: ModelSpec, shown: _Shown) -> Usage:
        return Usage(
            model=spec.key,
            input_tokens=shown.input_tokens,
            output_tokens=shown.output_tokens,
            cost_usd=spec.cost_usd(shown.input_tokens, shown.output_tokens),
        )

    def _failed(self, error: Exception, spec: ModelSpec, shown: _Shown) -> Failed:
        failure = classify(error, spec, self._providers.host(spec))
        reference = new_reference()
        phase = "mid-answer" if shown.visible else "before-answer"
        log_failure(reference, spec, error, failure, self._config.secrets(), phase=phase)
        message = failure.cut_off_message() if shown.visible else failure.message
        return Failed(message, reference)

    async def _record(
        self,
        scope: Scope,
        spec: ModelSpec,
        shown: _Shown,
        status: str,
        reference: str | None = None,
    ) -> None:
        if self._usage is None:
            return
        try:
            await self._usage.record(scope, self._usage_of(spec, shown), status, reference)
        except Exception:  # noqa: BLE001 - a lost usage row must not lose the answer
            log.warning("could not record usage for %s", scope.channel_id, exc_info=True)
