"""What went wrong with a model request, in words a Slack user can act on.

:func:`classify` turns any exception from a model call into a :class:`Failure`: a short message
(no stack trace, body, token or key), whether another model could answer instead, and how the
failure reads when an answer was already streaming. :func:`log_failure` writes the one ERROR line
that carries the detail, under the same reference id the user sees.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

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

from bot.core.catalog import CatalogError, ModelSpec
from bot.core.providers import ProviderConfigError
from bot.core.retry import is_spend_limit

log = logging.getLogger("teammate.core")

Kind = Literal[
    "config",
    "auth",
    "not_found",
    "too_long",
    "quota",
    "rejected",
    "rate_limited",
    "overloaded",
    "unavailable",
    "server",
    "timeout",
    "stalled",
    "connection",
    "unexpected",
    "unknown",
]

# Failures another model might not share: worth trying the fallback model for.
FALLBACK_KINDS: frozenset[Kind] = frozenset(
    {"rate_limited", "overloaded", "unavailable", "server", "timeout", "stalled", "connection"}
)

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|xox[abprs]-[A-Za-z0-9\-]{8,})")


class StreamStalled(Exception):
    """The provider stopped sending for longer than the stream idle timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no data from the model for {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified failure. ``message`` is safe to show; ``cut_reason`` finishes
    "The answer was cut off: …" when text had already been shown."""

    kind: Kind
    message: str
    cut_reason: str
    status: int | None = None

    @property
    def fallback_ok(self) -> bool:
        return self.kind in FALLBACK_KINDS

    def cut_off_message(self) -> str:
        return f"The answer was cut off: {self.cut_reason}. Ask again to get a complete answer."

    def fallback_notice(self, primary: ModelSpec, fallback: ModelSpec) -> str:
        state = {
            "rate_limited": "was rate-limited",
            "overloaded": "was overloaded",
            "server": "had a server error",
            "timeout": "did not answer in time",
            "stalled": "stopped answering",
            "connection": "could not be reached",
        }.get(self.kind, "was unavailable")
        return f"{primary.label} {state}; answered by {fallback.label}."


def new_reference() -> str:
    """A short id that ties a user-visible error to its log line."""
    return secrets.token_hex(4)


def classify(exc: BaseException, spec: ModelSpec, host: str) -> Failure:
    """Map an exception from a model call to a :class:`Failure`."""
    label = spec.label
    vendor = _vendor(spec, host)
    status = _status(exc)
    again = "Try again shortly."
    if isinstance(exc, ProviderConfigError):
        return Failure("config", str(exc), "the model is not configured", status)
    if isinstance(exc, CatalogError):
        return Failure("config", f"The model setting is not valid: {exc}.", "bad model", status)
    if isinstance(exc, ModelAuthenticationError) or status in (401, 403):
        return Failure(
            "auth",
            f"{vendor} refused the API key. Check {_key_env(spec)} and that the key may use "
            f"{spec.model}.",
            "the provider refused the API key",
            status,
        )
    if isinstance(exc, ModelNotFoundError) or status == 404:
        return Failure(
            "not_found",
            f"{vendor} does not know the model `{spec.model}`. Check TEAMMATE_MODEL "
            "(or this channel's model choice).",
            "the model name is unknown",
            status,
        )
    if isinstance(exc, ModelContextWindowExceededError):
        return Failure(
            "too_long",
            f"This conversation is too long for {label}. Start a new thread, or choose a model "
            "with a larger context window.",
            "the conversation is too long for the model",
            status,
        )
    if isinstance(exc, ModelQuotaExceededError) or (
        isinstance(exc, ModelAPIError) and is_spend_limit(exc.body)
    ):
        return Failure(
            "quota",
            f"{vendor} refused the request: the account's spend limit or credit balance is "
            "reached. An admin needs to raise it.",
            "the account's spend limit is reached",
            status,
        )
    if isinstance(exc, ModelRequestRejectedError) or status in (400, 413, 422):
        return Failure(
            "rejected",
            f"{label} rejected the request{_http(status)}. Try rephrasing or shortening it.",
            "the model rejected the request",
            status,
        )
    if isinstance(exc, ModelRateLimitError) or status == 429:
        return Failure(
            "rate_limited",
            f"{label} is rate-limited right now. Try again in a minute.",
            "the model is rate-limited",
            status,
        )
    if isinstance(exc, ModelOverloadedError) or status == 529:
        return Failure(
            "overloaded",
            f"{label} is overloaded right now. {again}",
            "the model is overloaded",
            status,
        )
    if isinstance(exc, ModelUnavailableError) or status == 503:
        return Failure(
            "unavailable",
            f"{label} is unavailable right now. {again}",
            "the model is unavailable",
            status,
        )
    if isinstance(exc, StreamStalled):
        return Failure(
            "stalled",
            f"{label} stopped sending for {exc.seconds:g} seconds. {again}",
            f"the model stopped sending for {exc.seconds:g} seconds",
        )
    if isinstance(exc, ModelTimeoutError | ModelRequestTimeout | httpx2.TimeoutException):
        return Failure(
            "timeout",
            f"{label} at {host} did not answer in time. {again}",
            "the model did not answer in time",
        )
    if isinstance(exc, ModelServerError) or (status is not None and status >= 500):
        return Failure(
            "server",
            f"{label} had a server error{_http(status)}. {again}",
            "the model had a server error",
            status,
        )
    if isinstance(exc, ModelConnectionError | httpx2.TransportError | httpx2.StreamError):
        return Failure(
            "connection",
            f"Could not reach the model at {host}. Check that it is running and reachable.",
            f"the connection to {host} was lost",
        )
    if isinstance(exc, ModelHTTPError | ModelAPIError):
        return Failure(
            "unknown",
            f"{label} failed{_http(status)}. {again}",
            "the model reported an error",
            status,
        )
    if isinstance(exc, UnexpectedModelBehavior):
        return Failure(
            "unexpected",
            f"{label} sent an answer Teammate could not use. {again}",
            "the model's reply could not be read",
        )
    return Failure(
        "unknown",
        "Something went wrong while answering. Try again; if it keeps happening, an admin can "
        "look up the reference in the logs.",
        "something went wrong",
    )


def stream_failure_is_transient(exc: BaseException, response_started: bool) -> bool:
    """Whether ``exc`` is a transient failure of an open stream, worth a whole new request.

    The HTTP transport retries everything that happens before a response starts; what breaks a
    stream afterwards (an ``error`` event, a dropped connection) it cannot see. The agent may
    retry those, as long as the user has seen nothing of the answer.
    """
    if isinstance(exc, ModelQuotaExceededError):
        return False
    if isinstance(exc, ModelAPIError) and exc.in_stream:
        if isinstance(exc, ModelRateLimitError) and is_spend_limit(exc.body):
            return False
        return isinstance(exc, ModelRateLimitError | ModelUnavailableError | ModelServerError)
    if not response_started or isinstance(exc, ModelTimeoutError | httpx2.TimeoutException):
        return False
    return isinstance(exc, ModelConnectionError | httpx2.TransportError | httpx2.StreamError)


def redact(text: str, secret_values: Iterable[str]) -> str:
    """``text`` with every known secret and anything shaped like an API key blanked."""
    for value in secret_values:
        if value:
            text = text.replace(value, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


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
    if len(detail) > 2000:
        detail = detail[:2000] + "…"
    log.error(
        "model request failed ref=%s model=%s phase=%s kind=%s status=%s detail=%s",
        reference,
        spec.ref,
        phase,
        failure.kind,
        failure.status if failure.status is not None else "-",
        detail,
    )


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, ModelHTTPError):
        return exc.status_code
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    return None


def _http(status: int | None) -> str:
    return f" (HTTP {status})" if status else ""


def _key_env(spec: ModelSpec) -> str:
    return "ANTHROPIC_API_KEY" if spec.provider == "anthropic" else "OPENAI_API_KEY"


def _vendor(spec: ModelSpec, host: str) -> str:
    if spec.provider == "anthropic":
        return "Anthropic"
    if spec.provider == "local":
        return "The embedded model"
    return f"The model server at {host}"
