"""The agent service: answers a :class:`Conversation` as a stream of :mod:`bot.core.events`.

It picks the model from the catalog, fits the thread into the model's window, streams the answer
through pydantic-ai, retries a stream that broke before the user saw anything, falls back to
another model when the first is overloaded, and turns every failure into one short ``Failed``
event whose reference id matches an ERROR log line. Callers see only core events.

Consume :meth:`AgentService.stream` to the end, or close it with ``contextlib.aclosing`` when
stopping early, so the model request is torn down in the caller's task.

Usage::

    service = AgentService(config, Catalog.load(), Prompts.load())
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
from typing import TypeVar

from pydantic_ai import Agent, AgentRunResultEvent
from pydantic_ai.direct import model_request
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from bot.core.catalog import Catalog, CatalogError, ModelSpec
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation
from bot.core.errors import (
    Failure,
    StreamStalled,
    classify,
    log_failure,
    new_reference,
    stream_failure_is_transient,
)
from bot.core.events import AgentEvent, Done, Failed, Notice, TextDelta, ToolStarted, Usage
from bot.core.history import Prompted, to_messages
from bot.core.local_tokens import counted_usage
from bot.core.model_settings import probe_settings, request_settings
from bot.core.prompts import Prompts
from bot.core.providers import Providers
from bot.core.retry import RESPONSE_WATCH, ResponseWatch, stream_retrying
from bot.core.stream_map import EventMapper
from bot.core.window import fit_turns, input_budget

log = logging.getLogger("teammate.core")
_T = TypeVar("_T")


class ModelCheckError(Exception):
    """The model check failed; the message is one line: the cause and the fix."""


@dataclass(slots=True)
class _Progress:
    """What one answer has shown so far, across retries and the fallback."""

    visible: bool = False
    notices: list[str] = field(default_factory=list)
    watch: ResponseWatch = field(default_factory=ResponseWatch)
    input_tokens: int = 0
    output_tokens: int = 0


class AgentService:
    """Answers conversations with the catalog's models.

    ``providers`` is for tests that substitute models; the default builds them from ``config``.
    """

    def __init__(
        self,
        config: CoreConfig,
        catalog: Catalog,
        prompts: Prompts,
        *,
        providers: Providers | None = None,
    ) -> None:
        self._config = config
        self._catalog = catalog
        self._prompts = prompts
        self._providers = providers if providers is not None else Providers(config)
        self._agent: Agent[None, str] = Agent(output_type=str, name="teammate")

    def resolve(self, ref: str | None = None) -> ModelSpec:
        """The catalog entry ``ref`` (default: the configured model) names."""
        return self._catalog.resolve(ref or self._config.model)

    async def stream(self, conversation: Conversation) -> AsyncIterator[AgentEvent]:
        """Answer ``conversation``: deltas, notices, ``Usage``, then one ``Done`` or ``Failed``."""
        progress = _Progress()
        try:
            primary = self.resolve(conversation.model)
        except CatalogError as exc:
            reference = new_reference()
            log.error("model request failed ref=%s kind=config detail=%s", reference, exc)
            yield Failed(f"The model setting is not valid: {exc}.", reference)
            return
        system = self._prompts.system(conversation, name=primary.prompt)

        error: Exception | None = None
        try:
            async for event in self._answer(primary, conversation, system, progress):
                yield event
            return
        except Exception as exc:  # noqa: BLE001 - every failure becomes a Failed event
            error = exc
        failure = classify(error, primary, self._providers.host(primary))

        fallback = self._fallback_for(primary)
        if fallback is not None and failure.fallback_ok and not progress.visible:
            log.warning(
                "model %s failed (%s: %s); answering with fallback %s",
                primary.ref,
                failure.kind,
                type(error).__name__,
                fallback.ref,
            )
            notice = failure.fallback_notice(primary, fallback)
            try:
                async for event in self._answer(
                    fallback,
                    conversation,
                    self._prompts.system(conversation, name=fallback.prompt),
                    progress,
                    fallback_from=primary,
                    notice=notice,
                ):
                    yield event
                return
            except Exception as exc:  # noqa: BLE001
                error, primary = exc, fallback
                failure = classify(error, fallback, self._providers.host(fallback))
        yield self._failed(error, primary, failure, progress)

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

    def _failed(
        self, error: Exception, spec: ModelSpec, failure: Failure, progress: _Progress
    ) -> Failed:
        reference = new_reference()
        phase = "mid-answer" if progress.visible else "before-answer"
        log_failure(reference, spec, error, failure, self._config.secrets(), phase=phase)
        message = failure.cut_off_message() if progress.visible else failure.message
        return Failed(message, reference)

    async def _answer(
        self,
        spec: ModelSpec,
        conversation: Conversation,
        system: str,
        progress: _Progress,
        *,
        fallback_from: ModelSpec | None = None,
        notice: str | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """One model's answer, retried whole while no text or tool call has been shown.

        Thinking streamed before a failed try may stream again on the retry; the renderer shows
        thinking only on request, so the answer itself is never doubled.
        """
        budget = input_budget(spec.context_window, spec.max_output, system)
        fitted = fit_turns(conversation.turns, budget, spec.label)
        if fitted.dropped or fitted.question_chars_cut:
            log.info(
                "conversation trimmed for %s: %d turns dropped, %d characters cut",
                spec.ref,
                fitted.dropped,
                fitted.question_chars_cut,
            )
        for text in fitted.notices:
            if text not in progress.notices:
                progress.notices.append(text)
                yield Notice(text)
        prompted = to_messages(fitted.turns)
        settings = request_settings(spec, conversation.deep)
        model = self._providers.model(spec)

        def retryable(exc: BaseException) -> bool:
            return not progress.visible and stream_failure_is_transient(exc, progress.watch.started)

        async for attempt in stream_retrying(self._config, retryable):
            failure: Exception | None = None
            try:
                async for event in self._attempt(model, prompted, system, settings, progress):
                    yield event
            except Exception as exc:  # noqa: BLE001 - judged by the retry policy below
                failure = exc
            with attempt:
                if failure is not None:
                    raise failure

        usage = Usage(
            model=spec.key,
            input_tokens=progress.input_tokens,
            output_tokens=progress.output_tokens,
            cost_usd=spec.cost_usd(progress.input_tokens, progress.output_tokens),
        )
        if notice:
            yield Notice(notice)
        if spec.note:
            yield Notice(spec.note)
        yield usage
        yield Done(
            model_label=spec.label,
            usage=usage,
            fallback_from=fallback_from.label if fallback_from else None,
        )

    async def _attempt(
        self,
        model: Model,
        prompted: Prompted,
        system: str,
        settings: ModelSettings,
        progress: _Progress,
    ) -> AsyncIterator[AgentEvent]:
        """One request: map its events; raise :class:`StreamStalled` if it goes quiet."""
        mapper = EventMapper()
        idle = self._config.stream_idle_timeout
        started = False
        progress.watch = ResponseWatch()
        async with self._agent.run_stream_events(
            prompted.prompt,
            message_history=prompted.history,
            model=model,
            instructions=system,
            model_settings=settings,
        ) as run:
            events = aiter(run)
            while True:
                # Before the first event the HTTP timeouts apply (and retries may be waiting);
                # while a tool runs, silence is expected.
                limit = idle if started and not mapper.tool_running else None
                try:
                    async with asyncio.timeout(limit) as scope:
                        if started:
                            event = await anext(events)
                        else:
                            event = await self._first_event(events, progress.watch)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if scope.expired():
                        raise StreamStalled(idle) from None
                    raise
                started = True
                if isinstance(event, AgentRunResultEvent):
                    run_usage = await counted_usage(model, event.result)
                    progress.input_tokens = run_usage.input_tokens
                    progress.output_tokens = run_usage.output_tokens
                    continue
                for out in mapper.map(event):
                    if isinstance(out, TextDelta | ToolStarted):
                        progress.visible = True
                    yield out

    @staticmethod
    async def _first_event(events: AsyncIterator[_T], watch: ResponseWatch) -> _T:
        """The first event; the run starts here, in a task that inherits ``watch``."""
        token = RESPONSE_WATCH.set(watch)
        try:
            return await anext(events)
        finally:
            RESPONSE_WATCH.reset(token)
