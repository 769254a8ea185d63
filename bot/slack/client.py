"""The one Slack Web API client the app shares.

Bolt copies the app's client for every request, keeping its aiohttp session and retry handlers,
so configuring them here configures every call: one pooled session instead of a session per
call, and 429s waited out per Slack's Retry-After. Server errors are not retried here, since a
post whose response was lost would be sent twice.
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


def build_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200, limit_per_host=100, ttl_dns_cache=300),
    )
