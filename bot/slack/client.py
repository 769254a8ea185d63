"""The one Slack Web API client the app shares.

Bolt copies the app's client for every request, keeping its aiohttp session and retry handlers,
so configuring them here configures every call: one pooled session instead of a session per
call, and 429s waited out per Slack's Retry-After. Server errors are not retried here, since a
post whose response was lost would be sent twice.

Every other call that Slack answers 429 (reading a thread while many answers start at once)
is retried by `WaitingRateLimitHandler` for as long as Slack asks, queued in the limiter's
lane for its method (keyed by the same workspace key as every other lane, so the refusal also
holds back the paced calls of that method), so the retries of many answers go out one by one
at the tier's pace rather than all together when Retry-After ends. slack-sdk's own handler
gives up after a count and then fails the answer; a refused call did nothing, so retrying it
is safe.
An answer's drawing calls go out through a copy without that handler: the writer paces them
itself and, after a 429, sends its latest text rather than the refused one.
"""

from __future__ import annotations

import time

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.render.limiter import shared_limiter, workspace_key

MAX_RATE_LIMIT_WAIT = 600.0
"""A call still refused after this long fails: something other than load is wrong."""


class WaitingRateLimitHandler(AsyncRetryHandler):
    """Retries a 429 after Retry-After, as often as it comes, paced by the shared limiter."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        if state.custom_values is None:
            state.custom_values = {}
        first = state.custom_values.setdefault("first_429", time.monotonic())
        return time.monotonic() - first < MAX_RATE_LIMIT_WAIT

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        lane = shared_limiter().lane(_workspace(request), request.url.rsplit("/", 1)[-1])
        lane.refused(_retry_after(response), slow_down=False)  # first tries are not paced
        await lane.turn()
        state.increment_current_attempt()


def _workspace(request: HttpRequest) -> str:
    """The workspace key of the token a call carries (``Authorization: Bearer <token>``)."""
    value = request.headers.get("Authorization") or request.headers.get("authorization") or [""]
    header = str(value[0] if isinstance(value, list) else value)
    return workspace_key(header.removeprefix("Bearer ").strip())


def _retry_after(response: HttpResponse | None) -> float:
    for name, value in (response.headers if response is not None else {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except ValueError:
                break
    return 1.0


def build_web_client(token: str, base_url: str, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        session=session,
        timeout=30,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            WaitingRateLimitHandler(),
        ],
    )


def without_rate_limit_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client (token, session, timeout) with 429s left to the caller."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        session=client.session,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        trust_env_in_session=client.trust_env_in_session,
        team_id=client.default_params.get("team_id"),
        retry_handlers=[
            handler
            for handler in client.retry_handlers
            if not isinstance(handler, WaitingRateLimitHandler)
        ],
    )


def build_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=100, ttl_dns_cache=300),
    )
