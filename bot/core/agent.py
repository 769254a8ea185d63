"""The agent service: answers a :class:`Conversation` as a stream of :mod:`bot.core.events`.

One pydantic-ai run per answer. The run is given its deps (the conversation's
:class:`~bot.core.conversation.Scope` and the answer's models) and the toolsets the
:class:`~bot.core.tools.Toolbox` offers in that scope; the :class:`RequestPolicy` capability
sets each request's settings, retries a request that broke before it showed anything and hands
a failing model's requests to the fallback — per request, so a tool call is never repeated.
The service fits the thread into the model's window, maps the run's events to core events,
ends a stream that goes quiet, turns every failure into one short ``Failed`` event whose
reference id matches an ERROR log line, and records each answer's usage with its scope.

A tool that writes or reaches outside pauses the answer (:mod:`bot.core.approvals`): the run
ends with the pending calls instead of a text, the stream with ``ApprovalNeeded`` events and
``Paused``; :meth:`AgentService.resume` goes on with it once the calls are decided.

When answers run as durable workflows, :attr:`AgentService.steps` makes each model request and
each risky tool call of a run inside a workflow a recorded step (:mod:`bot.core.durable.steps`),
so a resumed answer neither asks the model again nor runs a tool twice for what it had done;
:meth:`AgentService.once` records what an answer does once besides: what its first request is
built from (the caller reads the thread and asks :meth:`AgentService.brief`, then passes the
briefing to :meth:`AgentService.stream`) and the stored pause.

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
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from pydantic_ai import Agent, DeferredToolRequests
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.direct import model_request
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import ModelMessage, ModelRequest
from pydantic_ai.run import AgentRunResult
from pydantic_ai.toolsets import AbstractToolset

from bot.core import wording
from bot.core.approvals import Approvals, PausedRun, gated
from bot.core.catalog import Catalog, CatalogError, ModelSpec
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Scope
from bot.core.deps import AnswerDeps, AnswerState
from bot.core.events import (
    AgentEvent,
    ApprovalNeeded,
    Done,
    Failed,
    Notice,
    Paused,
    Risk,
    TextDelta,
    ToolFinished,
    ToolStarted,
    Usage,
)
from bot.core.failures import StreamStalled, classify, log_failure
from bot.core.grounding import Grounder
from bot.core.history import example_messages, to_messages
from bot.core.local_tokens import counted_usage
from bot.core.long_runs import long_run_capabilities
from bot.core.memory import Briefing, ChannelMemory
from bot.core.model_settings import probe_settings
from bot.core.prompts import Prompts
from bot.core.providers import Providers
from bot.core.references import new_reference
from bot.core.request_policy import RequestPolicy
from bot.core.stream_map import EventMapper
from bot.core.tasks.capability import TaskCapability
from bot.core.tasks.live import LiveTasks
from bot.core.tools import NoTools, Toolbox
from bot.core.tools.web import web_capabilities
from bot.core.window import fit_turns, input_budget

log = logging.getLogger("teammate.core")

T = TypeVar("T")
Once = Literal["start", "pause"]
"""What an answer does once outside its model requests and tool calls: ``start``, read what
its first request is built from (the thread, the memory's briefing); ``pause``, store the run
that waits for approvals."""


class ModelCheckError(Exception):
    """The model check failed; the message is one line: the cause and the fix."""


class StepRecorder(Protocol):
    """Makes a run's model requests and risky tool calls recorded steps when the run is a
    durable workflow's (:mod:`bot.core.durable.steps`); leaves other runs as they are."""

    def steps_of_run(
        self, toolsets: Sequence[AbstractToolset[AnswerDeps]], risk: Callable[[str], Risk]
    ) -> tuple[list[AbstractToolset[AnswerDeps]], list[AbstractCapability[AnswerDeps]]]:
        """The run's toolsets and the capabilities to add to it."""
        ...

    async def once(self, what: Once, work: Callable[[], Awaitable[T]]) -> T:
        """``work()``, as a recorded step when it runs in a workflow: a resumed one gets what
        the first run got instead of doing it again."""
        ...

    def run_id(self) -> str:
        """The id of the durable run this code is part of (empty outside one)."""
        ...


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
    paused: tuple[str, list[ApprovalNeeded]] | None = None


@dataclass(slots=True)
class _Start:
    """What a run starts from: a new question, or a paused run with its decisions."""

    prompt: str | None
    history: list[ModelMessage]
    instructions: str
    resume: PausedRun | None = None
    reply: str | None = None
    """Set when the question was done without the model (a note saved): the answer's text."""
    grounded: list[AgentEvent] = field(default_factory=list)
    """The steps of what was looked up for a model that cannot call tools."""


class AgentService:
    """Answers conversations with the catalog's models.

    ``providers`` is for tests that substitute models; the default builds them from ``config``.
    ``toolbox`` chooses the tools per scope (default: none); ``usage`` records each answer;
    ``memory`` briefs each answer on its channel's memory and declares the native memory tool.
    ``approvals`` pauses and resumes answers whose tools need a decision (without it, such
    tools are refused and the model answers without them).
    ``grounders`` give a model that cannot call tools what it would have looked up.
    ``tasks``: the live tasks, when tools made beside the service must know them too.
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
        memory: ChannelMemory | None = None,
        approvals: Approvals | None = None,
        grounders: Sequence[Grounder] = (),
        tasks: LiveTasks | None = None,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._prompts = prompts
        self._providers = providers if providers is not None else Providers(config)
        self._toolbox: Toolbox = toolbox if toolbox is not None else NoTools()
        self._usage = usage
        self._grounders = tuple(grounders)
        self.memory = memory
        self._approvals = approvals
        self.tasks = tasks if tasks is not None else LiveTasks()
        self.steps: StepRecorder | None = None
        """Set when answers run as durable workflows (imported only then: DBOS costs nothing
        otherwise)."""
        self._agent: Agent[AnswerDeps, str | DeferredToolRequests] = Agent(
            output_type=[str, DeferredToolRequests],
            deps_type=AnswerDeps,
            name="teammate",
            capabilities=[
                RequestPolicy(config),
                TaskCapability(self.tasks),
                *([memory.capability()] if memory else []),
                *web_capabilities(config.web_tools),
                *long_run_capabilities(self.tasks, memory),
            ],
        )

    def resolve(self, ref: str | None = None) -> ModelSpec:
        """The catalog entry ``ref`` (default: the configured model) names."""
        return self._catalog.resolve(ref or self._config.model)

    def stream(
        self, conversation: Conversation, briefing: Briefing | None = None
    ) -> AsyncIterator[AgentEvent]:
        """Answer ``conversation``: deltas, notices, ``Usage``, then one ``Done``, ``Paused``
        or ``Failed``. ``briefing``: what :meth:`brief` said (by default it is asked here)."""
        return self._answer(conversation, None, briefing)

    async def brief(self, conversation: Conversation) -> Briefing | None:
        """The channel memory's briefing for an answer to ``conversation``. It may do what was
        asked itself (a note saved): ask it once per answer. None without a memory, or when it
        failed (the answer briefs again itself and tells a failure as any other) or the
        conversation's model is not valid (the answer says so)."""
        if self.memory is None:
            return None
        try:
            return await self.memory.brief(conversation, self.resolve(conversation.model))
        except CatalogError:
            return None
        except Exception:  # noqa: BLE001 - told by the answer, which briefs again
            log.warning("memory briefing failed; the answer tries again", exc_info=True)
            return None

    async def once(self, what: Once, work: Callable[[], Awaitable[T]]) -> T:
        """``work()``, recorded as a step of its kind when answers are durable runs."""
        return await (self.steps.once(what, work) if self.steps is not None else work())

    def resume(self, run: PausedRun) -> AsyncIterator[AgentEvent]:
        """Go on with an answer that paused for approvals, its calls now decided: an approved
        tool runs, a denied one tells the model why. Events as :meth:`stream`'s."""
        return self._answer(run.conversation(), run)

    async def _answer(
        self,
        conversation: Conversation,
        resume: PausedRun | None,
        briefing: Briefing | None = None,
    ) -> AsyncIterator[AgentEvent]:
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
        try:
            answer = self._answer_state(primary, conversation.deep)
            # Closed here, in this task, when the caller stops early: the run's context
            # must not be torn down later by the garbage collector.
            run = self._run(conversation, answer, shown, resume, briefing)
            async with aclosing(run) as events:
                async for event in events:
                    yield event
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Failed event
            spec = answer.serving if answer is not None else primary
            failed = self._failed(exc, spec, shown)
            await self._record(scope, spec, shown, "failed", failed.reference)
            yield failed
            return
        await self._record(scope, answer.serving, shown, "paused" if shown.paused else "done")

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

    async def _fresh_start(
        self,
        conversation: Conversation,
        answer: AnswerState,
        shown: _Shown,
        briefing: Briefing | None,
    ) -> _Start:
        """The thread fitted into the model's window, as the run's prompt and history, with the
        channel's memory briefed; or the reply when the memory did what was asked itself."""
        spec = answer.primary
        system = self._prompts.system(conversation, name=spec.prompt)
        if briefing is None and self.memory is not None:
            briefing = await self.memory.brief(conversation, spec)
        if briefing is not None:
            if briefing.notice:
                shown.notices.append(briefing.notice)
            if briefing.reply is not None:
                return _Start(None, [], system, reply=briefing.reply)
            if briefing.instructions:
                system = f"{system}\n\n{briefing.instructions}"
        grounded: list[AgentEvent] = []
        if not spec.tools:
            texts, grounded = await self._ground(conversation, shown)
            system = "\n\n".join([system, *texts])
        # The catalog entry's example turns come first and count against the window too.
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
        if answer.deep and spec.thinking == "none":
            shown.notices.append(wording.no_deep_mode(spec.label))
        prompted = to_messages(fitted.turns)
        history = example_messages(spec.examples) + prompted.history
        return _Start(prompted.prompt, history, system, grounded=grounded)

    async def _run(
        self,
        conversation: Conversation,
        answer: AnswerState,
        shown: _Shown,
        resume: PausedRun | None,
        briefing: Briefing | None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """The answer's one agent run, its events mapped; raises what the run could not survive."""
        spec = answer.primary
        if resume is None:
            start = await self._fresh_start(conversation, answer, shown, briefing)
            if start.reply is not None:
                async for said in self._said(start.reply, spec, shown):
                    yield said
                return
            for step in start.grounded:
                yield step
            for text in shown.notices:
                yield Notice(text)
        else:
            start = _Start(None, resume.messages, resume.instructions, resume)
        mapper = EventMapper(title=self._toolbox.title)
        idle = self._config.stream_idle_timeout
        deps = AnswerDeps(scope=conversation.scope, answer=answer, key=conversation.key)
        offered = self._toolbox.toolsets(conversation.scope) if spec.tools else ()
        toolsets = gated(offered, self._toolbox.risk, self._approvals)
        extra: list[AbstractCapability[AnswerDeps]] = []
        if self.steps is not None:
            toolsets, extra = self.steps.steps_of_run(toolsets, self._toolbox.risk)
        # The run is driven here, in the caller's task (``agent.iter``, then each node's own
        # stream): no task hand-off per event. One deadline, moved forward as events arrive,
        # ends a stream that goes quiet; it is off while an event is with the caller, before
        # the first event (the HTTP timeouts apply, and retries may be waiting) and while a
        # tool runs.
        clock = asyncio.get_running_loop().time
        deadline: asyncio.Timeout | None = None
        try:
            async with (
                asyncio.timeout(None) as deadline,
                self._agent.iter(
                    start.prompt,
                    message_history=start.history,
                    model=answer.primary_model,
                    deps=deps,
                    instructions=start.instructions,
                    toolsets=toolsets,
                    capabilities=extra or None,
                    deferred_tool_results=Approvals.results(resume) if resume else None,
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
        except TimeoutError:
            if deadline is not None and deadline.expired():
                raise StreamStalled(idle) from None
            raise
        if result is not None:
            model = answer.fallback_model if answer.on_fallback else answer.primary_model
            run_usage = await counted_usage(model or answer.primary_model, result)
            shown.input_tokens = run_usage.input_tokens
            shown.output_tokens = run_usage.output_tokens
            await self._pause_if_waiting(conversation, spec, start, result, shown)
        served = answer.serving
        if answer.fallback_kind is not None and answer.fallback is not None:
            yield Notice(wording.fallback_notice(spec.label, answer.fallback_kind, served.label))
        if served.note:
            yield Notice(served.note)
        usage = self._usage_of(served, shown)
        yield usage
        if shown.paused is not None:
            run_id, waiting = shown.paused
            for needed in waiting:
                yield needed
            yield Paused(run_id, served.label, usage)
            return
        yield Done(
            model_label=served.label,
            usage=usage,
            fallback_from=spec.label if served is not spec else None,
        )

    async def _said(self, text: str, spec: ModelSpec, shown: _Shown) -> AsyncIterator[AgentEvent]:
        """An answer given without the model (what it was asked was done directly)."""
        shown.visible = True
        yield TextDelta(text)
        for notice in shown.notices:
            yield Notice(notice)
        usage = self._usage_of(spec, shown)
        yield usage
        yield Done(model_label=spec.label, usage=usage)

    async def _pause_if_waiting(
        self,
        conversation: Conversation,
        spec: ModelSpec,
        start: _Start,
        result: AgentRunResult[str | DeferredToolRequests],
        shown: _Shown,
    ) -> None:
        """A run that ended with calls waiting for approval is stored as a paused run, once:
        a resumed durable run gets the one its first run stored (ids and all), so the prompts
        in the thread still name it."""
        output = result.output
        if not isinstance(output, DeferredToolRequests):
            return
        approvals = self._approvals
        if approvals is None or output.calls:
            raise RuntimeError("the run stopped for tool calls nobody here can decide")
        origin = self.steps.run_id() if self.steps is not None else ""
        shown.paused = await self.once(
            "pause",
            lambda: approvals.pause(
                conversation,
                spec.ref,
                start.instructions,
                result.all_messages(),
                output,
                self._toolbox.risk,
                origin,
            ),
        )

    async def _ground(
        self, conversation: Conversation, shown: _Shown
    ) -> tuple[list[str], list[AgentEvent]]:
        """Each grounder's prompt text, and its step (its notice goes to ``shown``); a grounder
        that fails is logged and left out, the answer goes on without it."""
        texts: list[str] = []
        steps: list[AgentEvent] = []
        for grounder in self._grounders:
            try:
                grounding = await grounder.ground(conversation)
            except Exception:  # noqa: BLE001 - grounding helps; it must not stop the answer
                log.warning("grounding with %s failed", type(grounder).__name__, exc_info=True)
                continue
            if grounding is None:
                continue
            texts.append(grounding.text)
            call_id = f"grounding-{grounding.name}"
            steps.append(ToolStarted(call_id, grounding.name, {}, title=grounding.title))
            steps.append(
                ToolFinished(
                    call_id, grounding.name, "success", grounding.summary, grounding.sources
                )
            )
            shown.notices.append(grounding.notice)
        return texts, steps

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
