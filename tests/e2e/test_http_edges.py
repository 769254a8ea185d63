"""Requests Slack would never send, and the health endpoints."""

from __future__ import annotations

import json
import time

import aiohttp
from slack_sdk.signature import SignatureVerifier


def signed(secret: str, body: str, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }


async def post(url: str, body: str, headers: dict) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()


EVENT = json.dumps(
    {"type": "event_callback", "event_id": "EvX", "event": {"type": "app_mention", "text": "hi"}}
)


async def test_bad_signature_and_stale_timestamp_are_refused(stack) -> None:
    forged = signed("not-the-secret", EVENT)
    assert (await post(stack.bot_url, EVENT, forged))[0] == 401
    stale = signed(stack.sandbox.signing_secret, EVENT, int(time.time()) - 600)
    assert (await post(stack.bot_url, EVENT, stale))[0] == 401
    assert (await post(stack.bot_url, EVENT, {"Content-Type": "application/json"}))[0] == 401
    assert stack.model.requests == []


async def test_malformed_bodies_get_a_client_error_without_a_traceback(stack) -> None:
    for body in ("{not json", "payload=%7Bbroken", json.dumps({"type": "event_callback"})):
        status, text = await post(stack.bot_url, body, signed(stack.sandbox.signing_secret, body))
        assert 400 <= status < 500, (body, status)
        assert "Traceback" not in text and 'File "' not in text


async def test_huge_request_is_refused(stack) -> None:
    body = json.dumps({"type": "event_callback", "padding": "x" * 2_000_000})
    status, _ = await post(stack.bot_url, body, signed(stack.sandbox.signing_secret, body))
    assert status == 413


async def test_health_and_readiness(stack) -> None:
    base = stack.bot_url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/healthz") as health:
            assert health.status == 200
        async with session.get(base + "/readyz") as ready:
            assert ready.status == 200 and (await ready.json())["ok"] is True
