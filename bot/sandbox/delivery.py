"""Delivers events, slash commands and clicks to the app exactly as Slack does, and logs each
attempt.

Over a Socket Mode connection when the app has one open, else as a signed HTTP request to the
request URL: the same content either way (see outgoing), and one place decides what failed
and what is sent again. Events get Slack's retry policy: no 2xx (or no ack) within the ack
timeout, an error status, or a connection lost mid-delivery means the same content is sent
again as retry 1, 2, 3 (X-Slack-Retry-Num over HTTP, retry_attempt over a socket) on a
configurable schedule; an app answering with X-Slack-No-Retry: 1 stops the retries. A request
that timed out is left running (Slack does not cancel it either) and its late status, or late
ack, is noted. Slash commands and interactions are sent once: Slack shows the user an error
instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.config import SandboxConfig
from bot.sandbox.outgoing import Outgoing
from bot.sandbox.sockets import SocketClosed, SocketHub

_LOG_LIMIT = 200_000
_BODY_KEEP = 4_000


class Delivery:
    """Sends events, commands and interactions to the app, over its socket or its URL."""

    def __init__(
        self,
        config: SandboxConfig,
        signing_secret: str,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        sockets: SocketHub | None = None,
    ) -> None:
        self.config = config
        self.sockets = sockets
        self._verifier = SignatureVerifier(signing_secret)
        self._on_record = on_record
        self._session: aiohttp.ClientSession | None = None
        self._records: deque[dict[str, Any]] = deque(maxlen=_LOG_LIMIT)
        self._envelopes: OrderedDict[str, bytes] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = asyncio.Event()
        self._running.set()

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stops retries and in-flight requests, then closes the HTTP session."""
        self._running.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=512)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def pause(self) -> None:
        """Holds every new attempt until resume(), like a Slack outage."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """Waits until no delivery (nor retry) is pending; False when time ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    def clear(self) -> None:
        self._records.clear()
        self._envelopes.clear()

    # -- queries -------------------------------------------------------------------------------

    def attempts(self, kind: str | None = None, id: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self._records
            if (kind is None or r["kind"] == kind) and (id is None or r["id"] == id)
        ]

    def envelope(self, event_id: str) -> dict[str, Any] | None:
        raw = self._envelopes.get(event_id)
        return json.loads(raw) if raw is not None else None

    # -- sending -------------------------------------------------------------------------------

    def send_event(self, envelope: dict[str, Any]) -> str:
        """Queues an event envelope for delivery (with retries); returns its event_id."""
        out = Outgoing.event(envelope)
        self._envelopes[out.id] = out.body
        if len(self._envelopes) > _LOG_LIMIT:
            self._envelopes.popitem(last=False)
        self._spawn(self._deliver_event(out))
        return out.id

    async def redeliver(
        self, event_id: str, retry_num: int = 1, reason: str = "http_timeout"
    ) -> dict[str, Any]:
        """Sends a stored envelope once more, as Slack's retry number `retry_num`."""
        body = self._envelopes.get(event_id)
        if body is None:
            raise KeyError(event_id)
        return await self._attempt(Outgoing.event(json.loads(body), body), retry_num, reason)

    async def send_once(self, out: Outgoing) -> dict[str, Any]:
        """One attempt, no retries (slash commands and interactions)."""
        return await self._attempt(out, 0, None)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver_event(self, out: Outgoing) -> None:
        """Slack's retry policy, for both transports."""
        record = await self._attempt(out, 0, None)
        for number, delay in enumerate(self.config.retry_schedule, start=1):
            if record["ok"] or record.get("no_retry"):
                return
            if record["outcome"] == "no_request_url":
                return
            reason = "http_timeout" if record["outcome"] == "timeout" else "http_error"
            await asyncio.sleep(delay)
            record = await self._attempt(out, number, reason)

    async def _attempt(self, out: Outgoing, retry_num: int, reason: str | None) -> dict[str, Any]:
        """One delivery over whichever way the app is reachable now; returns its record."""
        await self._running.wait()
        record: dict[str, Any] = {
            "kind": out.kind,
            "id": out.id,
            "label": out.label,
            "retry_num": retry_num,
            "retry_reason": reason,
            "transport": None,
            "status": None,
            "ok": False,
            "outcome": "",
            "elapsed_ms": 0.0,
            "t": time.monotonic(),
            "time": time.time(),
            "body": "",
        }
        started = time.monotonic()
        if self.sockets is not None and self.sockets.active:
            await self._via_socket(self.sockets, out, retry_num, reason, record)
        elif self.config.request_url:
            await self._via_http(self.config.request_url, out, retry_num, reason, record)
        elif self.sockets is not None and self.sockets.used:
            record["outcome"] = "no_connection"  # a Socket Mode app between connections
        else:
            record["outcome"] = "no_request_url"
            return self._finish(record)
        record["elapsed_ms"] = round((time.monotonic() - started) * 1000, 3)
        return self._finish(record)

    # -- over a Socket Mode connection ---------------------------------------------------------

    async def _via_socket(
        self,
        sockets: SocketHub,
        out: Outgoing,
        retry_num: int,
        reason: str | None,
        record: dict[str, Any],
    ) -> None:
        record["transport"] = "socket"
        try:
            sent = await sockets.send(out, retry_num, reason)
        except SocketClosed:
            record["outcome"] = "connection_closed"
            return
        record["envelope_id"] = sent.envelope_id
        record["connection"] = sent.connection
        done, _ = await asyncio.wait({sent.ack}, timeout=self.config.ack_timeout)
        if not done:
            record["outcome"] = "timeout"
            sent.ack.add_done_callback(lambda ack: _late_ack(record, ack))
            return
        if sent.ack.exception() is not None:
            record["outcome"] = "connection_closed"
            return
        payload = sent.ack.result()
        record["ok"] = True
        record["outcome"] = "ok"
        record["body"] = _kept(json.dumps(payload), out) if payload else ""

    # -- over HTTP -----------------------------------------------------------------------------

    def _headers(self, body: bytes, content_type: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body.decode())
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    async def _via_http(
        self,
        url: str,
        out: Outgoing,
        retry_num: int,
        reason: str | None,
        record: dict[str, Any],
    ) -> None:
        record["transport"] = "http"
        headers = self._headers(out.body, out.content_type)
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = reason or "http_error"
        request = self._spawn(self._post(url, out.body, headers))
        try:
            status, text, no_retry = await asyncio.wait_for(
                asyncio.shield(request), self.config.ack_timeout
            )
        except TimeoutError:
            record["outcome"] = "timeout"
            request.add_done_callback(lambda done: _late_status(record, done))
        except (aiohttp.ClientError, OSError) as exc:
            record["outcome"] = "connection_error"
            record["body"] = type(exc).__name__
        else:
            record["status"] = status
            record["ok"] = 200 <= status < 300
            record["outcome"] = "ok" if record["ok"] else "http_error"
            record["body"] = _kept(text, out)
            if no_retry:
                record["no_retry"] = True

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bool]:
        timeout = aiohttp.ClientTimeout(total=max(60.0, self.config.ack_timeout * 10))
        async with self._http().post(url, data=body, headers=headers, timeout=timeout) as resp:
            text = await resp.text(errors="replace")
            return resp.status, text, resp.headers.get("X-Slack-No-Retry") == "1"

    def _finish(self, record: dict[str, Any]) -> dict[str, Any]:
        self._records.append(record)
        if self._on_record is not None:
            self._on_record(record)
        return record


def _kept(body: str, out: Outgoing) -> str:
    """The ack's body for the log; whole when Slack acts on it (a view can be long)."""
    return body if out.accepts_response_payload else body[:_BODY_KEEP]


def _late_status(record: dict[str, Any], done: asyncio.Task[Any]) -> None:
    if done.cancelled() or done.exception() is not None:
        record["late_status"] = None
        return
    record["late_status"] = done.result()[0]


def _late_ack(record: dict[str, Any], ack: asyncio.Future[Any]) -> None:
    record["late_ack"] = not ack.cancelled() and ack.exception() is None
