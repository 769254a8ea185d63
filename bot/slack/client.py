"""The one Slack Web API client the app shares.

Bolt copies the app's client for every request, keeping its aiohttp session and retry handlers,
so configuring them here configures every call: one pooled session instead of a session per
call, and 429s waited out per Slack's Retry-After. Server errors are not retried here, since a
post whose response was lost would be sent twice.

An answer's drawing calls go out through a copy without the rate-limit handler: they are
paced by bot.slack.render.limiter, which waits out every 429 and then sends the latest text
(the handler sleeps per call, resends what is stale, and gives up after a count).
"""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


def build_web_client(token: str, base_url: str, session: aiohttp.ClientSession) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        session=session,
        timeout=30,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
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
            if not isinstance(handler, AsyncRateLimitErrorRetryHandler)
        ],
    )


def build_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=100, ttl_dns_cache=300),
    )
