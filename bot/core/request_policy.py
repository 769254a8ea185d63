"""How each model request of an answer is made: its settings, its retries, its fallback.

A pydantic-ai capability, so it acts per *request* inside the one agent run of an answer, never
on the run as a whole: a request that breaks before it showed anything is tried again (a tool
call the run already made is never repeated), and a model that stays unavailable hands the
request, and every later request of the answer, to the fallback model. pydantic-ai primes each
streamed request before handing it to the consumer, so a failure that reaches
``on_model_request_error`` has shown the person nothing yet.

All it needs of the answer lives in the run's deps (:class:`~bot.core.deps.AnswerState`), not in
a closure or a context variable, so a durable runner can rebuild it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import RetryModelRequest
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models import ModelRequestContext

from bot.core.config import CoreConfig
from bot.core.deps import AnswerDeps
from bot.core.failures import rule_for
from bot.core.model_settings import request_settings
from bot.core.retry import wait_before_attempt, worth_another_attempt

log = logging.getLogger("teammate.core")


@dataclass
class RequestPolicy(AbstractCapability[AnswerDeps]):
    """Settings per serving model, retries per request, and the fallback model."""

    config: CoreConfig

    async def before_model_request(
        self, ctx: RunContext[AnswerDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        answer = ctx.deps.answer
        answer.first_attempt_on_model = 1
        if answer.on_fallback and answer.fallback_model is not None:
            request_context.model = answer.fallback_model
        return request_context

    async def prepare_model_request(
        self, ctx: RunContext[AnswerDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        answer = ctx.deps.answer
        answer.serving = answer.spec_of(request_context.model)
        request_context.model_settings = request_settings(answer.serving, answer.deep)
        return request_context

    async def on_model_request_error(
        self,
        ctx: RunContext[AnswerDeps],
        *,
        request_context: ModelRequestContext,
        error: Exception,
    ) -> ModelResponse:
        answer = ctx.deps.answer
        tries_here = request_context.attempt - answer.first_attempt_on_model + 1
        if worth_another_attempt(error) and tries_here < max(1, self.config.retry_attempts):
            wait = wait_before_attempt(self.config, tries_here, error)
            log.warning(
                "model request broke before any output (%s); retrying in %.1f s (attempt %d)",
                type(error).__name__,
                wait,
                tries_here,
            )
            await asyncio.sleep(wait)
            raise RetryModelRequest()
        rule = rule_for(error)
        if answer.fallback_model is not None and not answer.on_fallback and rule.fallback:
            log.warning(
                "model %s failed (%s: %s); answering with fallback %s",
                answer.serving.ref,
                rule.kind,
                type(error).__name__,
                answer.fallback.ref if answer.fallback else "-",
            )
            answer.fallback_kind = rule.kind
            answer.first_attempt_on_model = request_context.attempt + 1
            raise RetryModelRequest(answer.fallback_model)
        raise error
