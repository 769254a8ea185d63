"""Sends signed requests to the bot exactly as Slack does, with Slack's retries, and logs each.

Events get Slack's retry policy: no 2xx within the ack timeout (or an error status) means the
same body is sent again with X-Slack-Retry-Num and X-Slack-Retry-Reason, on a configurable
schedule; an app answering with X-Slack-No-Retry: 1 stops the retries. A request that timed
out is left running (Slack does not cancel it either) and its late status is noted.
Slash commands and interactions are sent once: Slack shows the user an error instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.config import SandboxConfig

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
_LOG_LIMIT = 200_000
_BODY_KEEP = 4_000


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


class Delivery:
    """Posts events, commands and interactions to the bot's request URL."""

    def __init__(
        self,
        config: SandboxConfig,
        signing_secret: str,
        on_record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.config = config
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
        event_id = str(envelope["event_id"])
        body = json.dumps(envelope).encode()
        self._envelopes[event_id] = body
        if len(self._envelopes) > _LOG_LIMIT:
            self._envelopes.popitem(last=False)
        label = str(envelope.get("event", {}).get("type", ""))
        self._spawn(self._deliver_event(event_id, label, body))
        return event_id

    async def redeliver(
        self, event_id: str, retry_num: int = 1, reason: str = "http_timeout"
    ) -> dict[str, Any]:
        """Sends a stored envelope once more, as Slack's retry number `retry_num`."""
        body = self._envelopes.get(event_id)
        if body is None:
            raise KeyError(event_id)
        label = str(json.loads(body).get("event", {}).get("type", ""))
        return await self._attempt("event", event_id, label, body, JSON_TYPE, retry_num, reason)

    async def send_once(
        self, kind: str, id: str, label: str, body: bytes, content_type: str = FORM_TYPE
    ) -> dict[str, Any]:
        """One attempt, no retries (slash commands and interactions)."""
        return await self._attempt(kind, id, label, body, content_type, 0, None)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver_event(self, event_id: str, label: str, body: bytes) -> None:
        record = await self._attempt("event", event_id, label, body, JSON_TYPE, 0, None)
        for number, delay in enumerate(self.config.retry_schedule, start=1):
            if record["ok"] or record.get("no_retry"):
                return
            if record["outcome"] == "no_request_url":
                return
            reason = "http_timeout" if record["outcome"] == "timeout" else "http_error"
            await asyncio.sleep(delay)
            record = await self._attempt("event", event_id, label, body, JSON_TYPE, number, reason)

    def _headers(self, body: bytes, content_type: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body.decode())
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }

    async def _attempt(
        self,
        kind: str,
        id: str,
        label: str,
        body: bytes,
        content_type: str,
        retry_num: int,
        reason: str | None,
    ) -> dict[str, Any]:
        await self._running.wait()
        record: dict[str, Any] = {
            "kind": kind,
            "id": id,
            "label": label,
            "retry_num": retry_num,
            "retry_reason": reason,
            "status": None,
            "ok": False,
            "outcome": "",
            "elapsed_ms": 0.0,
            "t": time.monotonic(),
            "time": time.time(),
            "body": "",
        }
        url = self.config.request_url
        if not url:
            record["outcome"] = "no_request_url"
            return self._finish(record)
        headers = self._headers(body, content_type)
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = reason or "http_error"
        started = time.monotonic()
        request = self._spawn(self._post(url, body, headers))
        try:
            status, text, no_retry = await asyncio.wait_for(
                asyncio.shield(request), self.config.ack_timeout
            )
        except TimeoutError:
            record["outcome"] = "timeout"
            request.add_done_callback(lambda done: self._late(record, done))
        except (aiohttp.ClientError, OSError) as exc:
            record["outcome"] = "connection_error"
            record["body"] = type(exc).__name__
        else:
            record["status"] = status
            record["ok"] = 200 <= status < 300
            record["outcome"] = "ok" if record["ok"] else "http_error"
            record["body"] = text[:_BODY_KEEP]
            if no_retry:
                record["no_retry"] = True
        record["elapsed_ms"] = round((time.monotonic() - started) * 1000, 3)
        return self._finish(record)

    def _late(self, record: dict[str, Any], done: asyncio.Task[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            record["late_status"] = None
            return
        record["late_status"] = done.result()[0]

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
