"""What both fake model servers share: lifecycle, scripting, recording, control routes, SSE.

A provider-specific subclass only renders replies into its wire format; everything about
which reply comes next, how failures are staged and how tests observe traffic lives here so
the two fakes behave the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Self

from aiohttp import web

from .script import (
    Block,
    Drop,
    Dynamic,
    Hang,
    Reply,
    Status,
    StreamError,
    Text,
    ToolCalls,
    plan_blocks,
    reply_from_spec,
    resolve,
)

CONTROL_PREFIX = "/_fake/"


@dataclass
class RecordedRequest:
    """One request as the fake received it (control routes are not recorded).

    Header names are lower-cased; `json` is the parsed body (or its text if not JSON).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    received_at: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Cut(Exception):
    """Raised inside a stream writer where a scripted failure must happen."""


class SSEOut:
    """An SSE response that counts pieces, paces them, and stops where a failure is scripted."""

    def __init__(self, request: web.Request, *, delay: float = 0.0, limit: int | None = None):
        self.request = request
        self.delay = delay
        self.limit = limit
        self.sent = 0
        self.response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )

    async def open(self, headers: dict[str, str]) -> None:
        self.response.headers.update(headers)
        await self.response.prepare(self.request)

    async def frame(self, data: Any, event: str | None = None) -> None:
        """Write one SSE frame; `data` is JSON-encoded unless it is already a string."""
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        head = f"event: {event}\n" if event else ""
        await self.response.write(f"{head}data: {text}\n\n".encode())

    async def piece(self, data: Any, event: str | None = None) -> None:
        """Write a frame that carries one piece of output, honouring delay and the cut."""
        if self.limit is not None and self.sent >= self.limit:
            raise _Cut
        if self.sent and self.delay:
            await asyncio.sleep(self.delay)
        await self.frame(data, event)
        self.sent += 1

    def cut_if_due(self) -> None:
        """Called before opening a block: stop here once the scripted pieces are out."""
        if self.limit is not None and self.sent >= self.limit:
            raise _Cut

    def end_of_content(self) -> None:
        """Called before the closing frames: a scripted failure always happens before them."""
        if self.limit is not None:
            raise _Cut

    async def finish(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.response.write_eof()


async def abort_connection(request: web.Request) -> None:
    """Flush what was written, then abort the socket: the client sees no clean end."""
    transport = request.transport
    if transport is None:
        return
    for _ in range(200):
        if transport.is_closing() or not transport.get_write_buffer_size():
            break
        await asyncio.sleep(0.0025)
    transport.abort()


class FakeServer:
    """Base of the fake model servers: an aiohttp app on a local port with a reply queue."""

    name = "FakeServer"
    default_model = "fake-model"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Reply | None = None,
        api_key: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.default: Reply = default if default is not None else Text("ok")
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.most_in_flight = 0
        """The most requests it was answering at once (a concurrency limit's test)."""
        self._queue: deque[Reply] = deque()
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Self:
        """Bind the port (0 picks a free one) and set `port` and the URLs."""
        if self._runner is not None:
            return self
        self._changed = asyncio.Condition()
        app = web.Application(middlewares=[self._record_middleware], client_max_size=64 << 20)
        self.add_routes(app)
        app.router.add_post(CONTROL_PREFIX + "script", self._control_script)
        app.router.add_get(CONTROL_PREFIX + "requests", self._control_requests)
        app.router.add_post(CONTROL_PREFIX + "clear", self._control_clear)
        runner = web.AppRunner(
            app, shutdown_timeout=0.1, handler_cancellation=True, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = runner.addresses[0][1]
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Close the port; requests still in flight (a Hang, a slow stream) are cancelled."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Scheme, host and port, no path: "http://127.0.0.1:PORT"."""
        return f"http://{self.host}:{self.port}"

    @property
    def v1_url(self) -> str:
        """`base_url` + "/v1"."""
        return self.base_url + "/v1"

    @property
    def sdk_base_url(self) -> str:
        """The `base_url` this provider's own SDK expects."""
        return self.base_url

    # -- scripting ----------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each generation request takes the next, then `default` is used."""
        self._queue.extend(replies)

    def clear(self) -> None:
        """Forget recorded requests and drop replies not yet used."""
        self.requests.clear()
        self._queue.clear()

    @property
    def pending(self) -> int:
        """Scripted replies not yet taken."""
        return len(self._queue)

    def _take_reply(self) -> Reply:
        return self._queue.popleft() if self._queue else self.default

    async def wait_for_requests(
        self, count: int, *, path: str | None = None, within: float = 5.0
    ) -> list[RecordedRequest]:
        """Wait until `count` requests (to `path`, if given) have arrived; return them.

        Raises TimeoutError after `within` seconds.
        """
        assert self._changed is not None, "server not started"

        def matching() -> list[RecordedRequest]:
            return [r for r in self.requests if path is None or r.path == path]

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(matching()) >= count)
        return matching()

    # -- recording and control ----------------------------------------------------------------

    @web.middleware
    async def _record_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(CONTROL_PREFIX):
            raw = await request.read()
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.path,
                    query=dict(request.query),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    json=parsed,
                    received_at=time.time(),
                )
            )
            if self._changed is not None:
                async with self._changed:
                    self._changed.notify_all()
            if self.api_key is not None and not self.authorized(request):
                return self.error_response(Status(401))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1
        return await handler(request)

    async def _control_script(self, request: web.Request) -> web.Response:
        """Body: a list of reply specs, or {"replies": [...], "default": spec, "clear": bool}."""
        try:
            payload = await request.json()
            if isinstance(payload, list):
                payload = {"replies": payload}
            replies = [reply_from_spec(s) for s in payload.get("replies", [])]
            default = payload.get("default")
            new_default = reply_from_spec(default) if default is not None else None
        except (ValueError, TypeError, AttributeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if payload.get("clear"):
            self.clear()
        if new_default is not None:
            self.default = new_default
        self.script(*replies)
        return web.json_response({"queued": len(replies), "pending": self.pending})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r.to_dict() for r in self.requests])

    async def _control_clear(self, request: web.Request) -> web.Response:
        self.clear()
        return web.json_response({"pending": 0, "requests": 0})

    # -- the generation pipeline --------------------------------------------------------------

    async def generate(self, request: web.Request) -> web.StreamResponse:
        """Check the request like the provider would, then play the next scripted reply."""
        try:
            body = await request.json()
        except ValueError:
            return self.error_response(Status(400, message="The request body is not valid JSON."))
        if not isinstance(body, dict):
            return self.error_response(Status(400, message="The request body must be an object."))
        problem = self.validate(body)
        if problem:
            return self.error_response(Status(400, message=problem))
        reply = await resolve(self._take_reply(), body)
        return await self._play(request, body, reply)

    async def _play(
        self, request: web.Request, body: dict[str, Any], reply: Reply
    ) -> web.StreamResponse:
        stream = bool(body.get("stream"))
        if isinstance(reply, Hang):
            await asyncio.sleep(reply.seconds)
            if reply.then is None:
                await abort_connection(request)
                return web.Response(status=204)
            return await self._play(request, body, await resolve(reply.then, body))
        if isinstance(reply, Status):
            return self.error_response(reply)
        if isinstance(reply, Drop) and (reply.after_pieces is None or not stream):
            await abort_connection(request)
            return web.Response(status=204)
        if isinstance(reply, StreamError) and not stream:
            return self.error_response(self.stream_error_status(reply))
        assert not isinstance(reply, Dynamic)
        blocks = plan_blocks(reply, self.new_tool_id)
        delay = reply.delay
        if not stream:
            assert not isinstance(reply, Drop | StreamError)  # answered above
            pieces = sum(len(b.pieces) for b in blocks)
            if delay and pieces:
                await asyncio.sleep(delay * pieces)
            return web.json_response(
                self.message_json(body, reply, blocks), headers=self.response_headers()
            )
        cut = reply if isinstance(reply, Drop | StreamError) else None
        out = SSEOut(request, delay=delay, limit=cut.after_pieces if cut else None)
        try:
            await out.open(self.response_headers())
            try:
                await self.write_stream(out, body, reply, blocks)
            except _Cut:
                if isinstance(cut, StreamError):
                    await self.write_stream_error(out, cut)
                else:
                    await abort_connection(request)
                    return out.response
            await out.finish()
        except ConnectionError:
            pass  # the client went away; nothing left to say
        return out.response

    # -- provider hooks -----------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        raise NotImplementedError

    def validate(self, body: dict[str, Any]) -> str | None:
        """A 400 message when the request lacks what the real API requires, else None."""
        return None

    def error_response(self, status: Status) -> web.Response:
        raise NotImplementedError

    def stream_error_status(self, error: StreamError) -> Status:
        raise NotImplementedError

    def response_headers(self) -> dict[str, str]:
        return {}

    def new_tool_id(self) -> str:
        return "call_" + uuid.uuid4().hex[:24]

    def message_json(
        self, body: dict[str, Any], reply: Text | ToolCalls, blocks: Sequence[Block]
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def write_stream(
        self,
        out: SSEOut,
        body: dict[str, Any],
        reply: Text | ToolCalls | Drop | StreamError,
        blocks: Sequence[Block],
    ) -> None:
        raise NotImplementedError

    async def write_stream_error(self, out: SSEOut, error: StreamError) -> None:
        raise NotImplementedError


def retry_after_header(status: Status) -> dict[str, str]:
    """`retry-after` in whole seconds when possible, as providers send it."""
    if status.retry_after is None:
        return {}
    value = status.retry_after
    text = str(int(value)) if float(value).is_integer() else str(value)
    return {"retry-after": text}


# -- running standalone ---------------------------------------------------------------------


def run_cli(server_cls: type[FakeServer], argv: Sequence[str] | None = None) -> None:
    """Run a fake in the foreground; prints "<name> listening on <url>" once bound."""
    parser = argparse.ArgumentParser(description=f"Run {server_cls.name} on a local port.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--text", default="ok", help="default reply text")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between pieces")
    parser.add_argument("--api-key", default=None, help="reject requests without this key")
    args = parser.parse_args(argv)

    async def main() -> None:
        server = server_cls(
            host=args.host,
            port=args.port,
            default=Text(args.text, delay=args.delay),
            api_key=args.api_key,
        )
        await server.start()
        print(f"{server.name} listening on {server.base_url}", flush=True)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await stopping.wait()
        await server.stop()

    asyncio.run(main())
