"""Socket Mode: the WebSocket connections an app opens instead of exposing a request URL.

`apps.connections.open` hands out a one-time URL; the app connects and is greeted with
`hello`. From then on Slack sends every event, command and click as an envelope on one of the
open connections (taking turns when there are several) and waits for an ack carrying the same
envelope_id; a command's ack may carry the immediate reply in `payload`. A `disconnect`
message asks the app to open a fresh connection, as Slack does before it recycles one; the
apps.connections.open call that follows is owed to the app and never rate limited (Slack
would not ask an app to reconnect and then refuse it).

The hub only moves envelopes and acks. Whether a missing ack is a failure, and whether to try
again, is decided by delivery, in the same place as for HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.outgoing import Outgoing

log = logging.getLogger(__name__)

PATH = "/link/"
_HOST = "applink-sandbox"
_TICKETS_KEPT = 1_000

Ack = asyncio.Future[dict[str, Any] | None]


class SocketClosed(Exception):
    """No connection to send on, or it closed before the envelope was acknowledged."""


@dataclass
class Connection:
    """One open WebSocket and the envelopes sent on it that still wait for an ack."""

    id: str
    ws: web.WebSocketResponse
    opened: float
    pending: dict[str, Ack] = field(default_factory=dict)
    sent: int = 0
    acked: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "opened": self.opened,
            "sent": self.sent,
            "acked": self.acked,
            "waiting": len(self.pending),
        }


@dataclass(frozen=True)
class Sent:
    """An envelope on its way: `ack` resolves to the ack's payload or fails with SocketClosed."""

    envelope_id: str
    connection: str
    ack: Ack


class SocketHub:
    """Issues Socket Mode URLs, serves the WebSocket, sends envelopes and matches acks."""

    def __init__(
        self,
        app_id: Callable[[], str],
        base_url: Callable[[], str],
        on_change: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self._app_id = app_id
        self._base_url = base_url
        self._on_change = on_change
        self._tickets: dict[str, None] = {}
        self._connections: dict[str, Connection] = {}
        self._turn = itertools.count()
        self._refreshes_owed = 0
        self.used = False

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.handle)]

    # -- connecting ----------------------------------------------------------------------------

    def issue_url(self) -> str:
        """A URL good for one connection (apps.connections.open)."""
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = None
        while len(self._tickets) > _TICKETS_KEPT:
            self._tickets.pop(next(iter(self._tickets)))
        ws_base = "ws" + self._base_url().removeprefix("http")
        return f"{ws_base}{PATH}?ticket={ticket}&app_id={self._app_id()}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid_ticket")
        del self._tickets[ticket]
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        conn = Connection(id="c" + secrets.token_hex(6), ws=ws, opened=time.time())
        await ws.send_str(json.dumps(self._hello()))
        self._connections[conn.id] = conn
        self.used = True
        self._changed("connected", conn)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(conn, message.data)
        finally:
            self._connections.pop(conn.id, None)
            for ack in conn.pending.values():
                if not ack.done():
                    ack.set_exception(SocketClosed(f"connection {conn.id} closed"))
            conn.pending.clear()
            self._changed("closed", conn)
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._connections) + 1,
            "debug_info": {
                "host": _HOST,
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self._app_id()},
        }

    def _on_text(self, conn: Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.info("socket %s sent text that is not JSON", conn.id)
            return
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        ack = conn.pending.pop(str(message["envelope_id"]), None)
        if ack is None or ack.done():
            log.info("socket %s acked unknown envelope %s", conn.id, message["envelope_id"])
            return
        conn.acked += 1
        payload = message.get("payload")
        ack.set_result(payload if isinstance(payload, dict) else None)

    def _changed(self, what: str, conn: Connection) -> None:
        if self._on_change is not None:
            data = {"event": what, "connection": conn.id, "open": len(self._connections)}
            self._on_change("socket", data)

    def take_refresh(self) -> bool:
        """True (once per connection asked or made to go) for a reconnect Slack asked for."""
        if self._refreshes_owed <= 0:
            return False
        self._refreshes_owed -= 1
        return True

    # -- looking -------------------------------------------------------------------------------

    @property
    def active(self) -> int:
        return sum(1 for c in self._connections.values() if not c.ws.closed)

    def connections(self) -> list[dict[str, Any]]:
        return [c.view() for c in self._connections.values() if not c.ws.closed]

    # -- sending -------------------------------------------------------------------------------

    def _pick(self) -> Connection | None:
        """The next open connection in turn, as Slack spreads envelopes over an app's sockets."""
        open_ = [c for c in self._connections.values() if not c.ws.closed]
        if not open_:
            return None
        return open_[next(self._turn) % len(open_)]

    async def send(self, out: Outgoing, retry_num: int, reason: str | None) -> Sent:
        """Sends one envelope; raises SocketClosed when there is no connection to send it on."""
        conn = self._pick()
        if conn is None:
            raise SocketClosed("no open connection")
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": out.payload,
            "type": out.socket_type,
            "accepts_response_payload": out.accepts_response_payload,
        }
        if out.retried:
            envelope["retry_attempt"] = retry_num
            envelope["retry_reason"] = reason or ""
        ack: Ack = asyncio.get_running_loop().create_future()
        ack.add_done_callback(_retrieve)
        conn.pending[envelope_id] = ack
        try:
            await conn.ws.send_str(json.dumps(envelope))
        except (ConnectionError, RuntimeError) as exc:
            conn.pending.pop(envelope_id, None)
            raise SocketClosed(f"connection {conn.id} closed") from exc
        conn.sent += 1
        return Sent(envelope_id, conn.id, ack)

    async def disconnect(self, reason: str = "refresh_requested") -> int:
        """Asks every connection to reconnect (Slack's `disconnect`); returns how many."""
        notice = {"type": "disconnect", "reason": reason, "debug_info": {"host": _HOST}}
        message = json.dumps(notice)
        asked = 0
        for conn in list(self._connections.values()):
            if conn.ws.closed:
                continue
            try:
                await conn.ws.send_str(message)
                asked += 1
            except (ConnectionError, RuntimeError):
                continue
        self._refreshes_owed += asked
        return asked

    async def close(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Closes every connection from Slack's side (the app may reconnect)."""
        conns = [c for c in self._connections.values() if not c.ws.closed]
        self._refreshes_owed += len(conns)
        await asyncio.gather(*(c.ws.close(code=code) for c in conns), return_exceptions=True)


def _retrieve(ack: Ack) -> None:
    """Marks a failure as seen: nobody may be waiting any more when a connection closes."""
    if not ack.cancelled():
        ack.exception()
