"""What went wrong with a model request, as data: an ordered table of rules.

Each rule names a kind of failure, how to recognise it (exception classes, HTTP statuses, or a
predicate), and whether another model could answer instead. :func:`classify` takes the first
rule that matches; the words a person reads come from :mod:`bot.core.wording`, and the one
ERROR log line with the detail goes through the shared redactor under the same reference id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx2
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)

from bot.core import wording
from bot.core.catalog import CatalogError, ModelSpec
from bot.core.providers import ProviderConfigError
from bot.core.redact import redact
from bot.core.retry import is_spend_limit

log = logging.getLogger("teammate.core")

DETAIL_LIMIT = 2000


class StreamStalled(Exception):
    """The provider stopped sending for longer than the stream idle timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no data from the model for {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: ``kind`` matches when the exception is one of ``types``, or its
    HTTP status is one of ``statuses``, or ``when`` says so."""

    kind: str
    types: tuple[type[BaseException], ...] = ()
    statuses: frozenset[int] = frozenset()
    when: Callable[[BaseException], bool] | None = None
    fallback: bool = False

    def matches(self, exc: BaseException, status: int | None) -> bool:
        if self.types and isinstance(exc, self.types):
            return True
        if status is not None and status in self.statuses:
            return True
        return self.when is not None and self.when(exc)


def _spend_limit(exc: BaseException) -> bool:
    return isinstance(exc, ModelAPIError) and is_spend_limit(exc.body)


def _server_status(exc: BaseException) -> bool:
    status = _status(exc)
    return status is not None and status >= 500


RULES: tuple[Rule, ...] = (
    Rule("config", types=(ProviderConfigError, CatalogError)),
    Rule("auth", types=(ModelAuthenticationError,), statuses=frozenset({401, 403})),
    Rule("not_found", types=(ModelNotFoundError,), statuses=frozenset({404})),
    Rule("too_long", types=(ModelContextWindowExceededError,)),
    Rule("quota", types=(ModelQuotaExceededError,), when=_spend_limit),
    Rule("rejected", types=(ModelRequestRejectedError,), statuses=frozenset({400, 413, 422})),
    Rule("rate_limited", types=(ModelRateLimitError,), statuses=frozenset({429}), fallback=True),
    Rule("overloaded", types=(ModelOverloadedError,), statuses=frozenset({529}), fallback=True),
    Rule("unavailable", types=(ModelUnavailableError,), statuses=frozenset({503}), fallback=True),
    Rule("stalled", types=(StreamStalled,), fallback=True),
    Rule(
        "timeout",
        types=(ModelTimeoutError, ModelRequestTimeout, httpx2.TimeoutException),
        fallback=True,
    ),
    Rule("server", types=(ModelServerError,), when=_server_status, fallback=True),
    Rule(
        "connection",
        types=(ModelConnectionError, httpx2.TransportError, httpx2.StreamError),
        fallback=True,
    ),
    Rule("provider", types=(ModelHTTPError, ModelAPIError)),
    Rule("unexpected", types=(UnexpectedModelBehavior,)),
)

UNKNOWN = Rule("unknown")


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure: ``message`` is safe to show; ``cut_reason`` finishes
    "The answer was cut off: …" when text had already been shown."""

    kind: str
    message: str
    cut_reason: str
    status: int | None = None
    fallback_ok: bool = False

    def cut_off_message(self) -> str:
        return wording.cut_off(self.cut_reason)

    def fallback_notice(self, primary: ModelSpec, fallback: ModelSpec) -> str:
        return wording.fallback_notice(primary.label, self.kind, fallback.label)


def rule_for(exc: BaseException) -> Rule:
    """The first rule of :data:`RULES` that matches ``exc``."""
    status = _status(exc)
    return next((rule for rule in RULES if rule.matches(exc, status)), UNKNOWN)


def classify(exc: BaseException, spec: ModelSpec, host: str) -> Failure:
    """Map an exception from a model call to a :class:`Failure`."""
    rule = rule_for(exc)
    status = _status(exc) if rule.kind != "timeout" else None
    words = wording.FailureWords(
        label=spec.label,
        vendor=_vendor(spec, host),
        host=host,
        key_env="ANTHROPIC_API_KEY" if spec.provider == "anthropic" else "OPENAI_API_KEY",
        model=spec.model,
        status=status,
        seconds=exc.seconds if isinstance(exc, StreamStalled) else None,
        detail=_config_detail(exc),
    )
    message, cut = wording.FAILURES[rule.kind]
    return Failure(rule.kind, words.fill(message), words.fill(cut), status, rule.fallback)


def log_failure(
    reference: str,
    spec: ModelSpec,
    exc: BaseException,
    failure: Failure,
    secret_values: Iterable[str],
    *,
    phase: str,
) -> None:
    """One ERROR line with the detail behind ``reference`` (class, status, provider message)."""
    detail = redact(f"{type(exc).__name__}: {exc}", secret_values)
    if len(detail) > DETAIL_LIMIT:
        detail = detail[:DETAIL_LIMIT] + "…"
    log.error(
        "model request failed ref=%s model=%s phase=%s kind=%s status=%s detail=%s",
        reference,
        spec.ref,
        phase,
        failure.kind,
        failure.status if failure.status is not None else "-",
        detail,
    )


def _config_detail(exc: BaseException) -> str:
    if isinstance(exc, CatalogError):
        return wording.bad_model_setting(exc)
    return str(exc) if isinstance(exc, ProviderConfigError) else ""


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, ModelHTTPError):
        return exc.status_code
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    return None


def _vendor(spec: ModelSpec, host: str) -> str:
    if spec.provider == "anthropic":
        return "Anthropic"
    if spec.provider == "local":
        return "The embedded model"
    return f"The model server at {host}"
