"""A tiny stand-in for the bot's HTTP endpoint: checks Slack signatures and records requests.

Tests choose how it answers (status, body, delay) per request, to exercise Slack's retries.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from slack_sdk.signature import SignatureVerifier


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"


@dataclass
class Received:
    headers: dict[str, str]
    raw: str
    valid: bool
    body: dict[str, Any]

    @property
    def event(self) -> dict[str, Any]:
        return self.body.get("event", {})

    @property
    def retry_num(self) -> str | None:
        return self.headers.get("X-Slack-Retry-Num")


class Receiver:
    """Serves POST /slack/events and keeps every request it got."""

    def __init__(self, signing_secret: str) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.requests: list[Received] = []
        self.answer: Callable[[Received], Reply] = lambda _: Reply()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/slack/events"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = (await request.read()).decode()
        valid = self.verifier.is_valid(
            body=raw,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
        )
        received = Received(dict(request.headers), raw, valid, _parse(request.content_type, raw))
        self.requests.append(received)
        if not valid:
            return web.Response(status=401)
        reply = self.answer(received)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(
            status=reply.status,
            text=reply.body,
            content_type=reply.content_type,
            headers=reply.headers,
        )

    def events(self, kind: str | None = None) -> list[Received]:
        return [
            r
            for r in self.requests
            if r.body.get("type") == "event_callback" and (kind is None or r.event["type"] == kind)
        ]


def _parse(content_type: str, raw: str) -> dict[str, Any]:
    if content_type == "application/json":
        return json.loads(raw)
    fields = {k: v[0] for k, v in parse_qs(raw).items()}
    if "payload" in fields:
        return json.loads(fields["payload"])
    return fields
