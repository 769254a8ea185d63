"""When and how long to retry a model request: in the HTTP transport, and per streamed request.

Retries go through tenacity: the HTTP layer uses pydantic-ai's ``AsyncHTTPX2TenacityTransport``
(the SDKs' own retries are off, so the layers do not multiply) for everything that fails before
a response starts. What breaks an open stream before it showed anything (an ``error`` event, a
connection dropped mid-body) the transport cannot see; the agent's request policy tries that one
model request again, with the same tenacity wait strategy and attempt count — never the whole
run, so a tool call is never repeated. ``retry-after`` is honoured but capped: a provider asking
for an hour must not park an answer for an hour.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx2
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelUnavailableError,
)
from pydantic_ai.retries import AsyncHTTPX2TenacityTransport, RetryConfig, wait_retry_after
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from bot.core.config import CoreConfig
from bot.core.http_transport import AiohttpTransport, StreamDropped

log = logging.getLogger("teammate.core")

# 529 is Anthropic's "overloaded"; 408/409 are the provider asking to try again.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
SPEND_LIMIT_CODE = "enforced_spend_limit_reached"

# A pool large enough for hundreds of answers streaming at once, kept warm between them.
HTTP_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)

WaitFn = Callable[[RetryCallState], float]


def is_spend_limit(body: object) -> bool:
    """Whether an error body says the organisation's spend limit is reached (waiting won't help)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return False
    details = error.get("details")
    return isinstance(details, dict) and details.get("error_code") == SPEND_LIMIT_CODE


def should_retry_response(response: httpx2.Response) -> bool:
    """Whether the transport should try this response's request again."""
    if response.status_code not in RETRY_STATUSES:
        return False
    if response.status_code == 429:
        try:
            body = json.loads(response.content or b"null")
        except (ValueError, httpx2.ResponseNotRead):
            body = None
        if is_spend_limit(body):
            return False
    return response.headers.get("x-should-retry", "").strip().lower() != "false"


def is_retryable_transport_error(exc: BaseException) -> bool:
    """Failures the transport retries: a retryable status, or no response at all.

    A read timeout is not retried: the provider took the request and went silent, and trying
    again would only double the wait before the user hears anything.
    """
    if isinstance(exc, httpx2.HTTPStatusError):
        return True
    return isinstance(exc, httpx2.TransportError) and not isinstance(
        exc, httpx2.ReadTimeout | httpx2.WriteTimeout
    )


def retry_wait(config: CoreConfig) -> WaitFn:
    """Seconds to wait before the next try: the provider's ``retry-after`` if it sent one,
    otherwise exponential backoff with jitter; never more than ``retry_max_wait``."""
    cap = config.retry_max_wait
    backoff = wait_exponential_jitter(
        multiplier=config.retry_backoff, max=cap, jitter=config.retry_backoff
    )
    from_headers = wait_retry_after(backoff, max_wait=cap)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ModelAPIError) and exc.retry_after is not None:
            return max(0.0, min(exc.retry_after, cap))
        return min(from_headers(state), cap)

    return wait


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    if isinstance(exc, httpx2.HTTPStatusError):
        what = f"status {exc.response.status_code} from {exc.request.url.host}"
    else:
        what = type(exc).__name__
    log.warning(
        "model request failed (%s); retrying in %.1f s (attempt %d)",
        what,
        wait,
        state.attempt_number,
    )


def http_retry_config(config: CoreConfig) -> RetryConfig:
    """The tenacity arguments for the HTTP transport."""
    return RetryConfig(
        retry=retry_if_exception(is_retryable_transport_error),
        wait=retry_wait(config),
        stop=stop_after_attempt(max(1, config.retry_attempts)),
        before_sleep=_log_retry,
        reraise=True,
    )


class _ReadErrorBodies(httpx2.AsyncBaseTransport):
    """Reads the (small) body of an error response before the retry policy looks at it.

    The policy needs the body to tell a spend limit from a rate limit, and the error raised when
    retries run out keeps the body, so the SDK and the log still say what the provider said.
    """

    def __init__(self, wrapped: httpx2.AsyncBaseTransport) -> None:
        self._wrapped = wrapped

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._wrapped.handle_async_request(request)
        if response.status_code >= 400:
            await response.aread()
        return response

    async def aclose(self) -> None:
        await self._wrapped.aclose()


def worth_another_attempt(exc: BaseException) -> bool:
    """Whether a streamed request that failed before showing anything should be sent again.

    Yes for a transient error the provider reported inside the stream, and for a connection
    that broke mid-body (:class:`StreamDropped`). No for what the transport already retried
    (statuses, failures before a response), for a spend limit, and for a read timeout (trying
    again would only double the wait before the person hears anything).
    """
    if isinstance(exc, ModelQuotaExceededError):
        return False
    if isinstance(exc, ModelAPIError) and exc.in_stream:
        if isinstance(exc, ModelRateLimitError) and is_spend_limit(exc.body):
            return False
        return isinstance(exc, ModelRateLimitError | ModelUnavailableError | ModelServerError)
    return _caused_by(exc, StreamDropped)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _raise_if_retryable(response: httpx2.Response) -> None:
    if should_retry_response(response):
        raise httpx2.HTTPStatusError(
            f"retryable status {response.status_code}", request=response.request, response=response
        )


def retrying_transport(config: CoreConfig) -> httpx2.AsyncBaseTransport:
    """An HTTP transport that retries transient failures as :func:`http_retry_config` says."""
    inner = _ReadErrorBodies(AiohttpTransport(HTTP_LIMITS))
    return AsyncHTTPX2TenacityTransport(
        http_retry_config(config), wrapped=inner, validate_response=_raise_if_retryable
    )


def wait_before_attempt(config: CoreConfig, attempt: int, error: BaseException) -> float:
    """Seconds to wait before attempt ``attempt + 1`` of a request that failed with ``error``:
    the same tenacity strategy the transport uses (``retry-after`` first, capped)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(error), error, error.__traceback__))
    return retry_wait(config)(state)
