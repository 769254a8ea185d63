"""The model SDKs' HTTP transport: httpx2's interface, aiohttp's connection handling.

Why by hand: the SDKs (anthropic, openai) speak httpx2, whose own transport reads a streamed
body through httpcore and anyio, with a cancel scope and a timeout context per socket read.
A streamed answer is one small read per token, so that read path is most of the HTTP cost of
an answer: measured in bench/stream_layers.py, draining a 2,000-event stream costs about twice
the CPU through httpx2's transport as through aiohttp's C parser (which the bot already uses for
Slack). The SDKs ship an aiohttp transport only as a private vendored copy, and the public
httpx-aiohttp package reports a dropped connection as a connect timeout, which would hide a
stream that broke mid-way from the retry policy. This one is small and says exactly what
:mod:`bot.core.retry` needs: a body that breaks part-way raises :class:`StreamDropped`, a
silent provider a read timeout, a refused connection a connect error.

Proxies: aiohttp's own ``trust_env`` looks the environment's proxy (and ~/.netrc) up again for
every request, in a worker thread, and the loop waits for that thread twice before the request
leaves: a delay on every model request, longest on a busy machine, between a tool's result and
the next request too. Here the proxy for each scheme and host is looked up once, in a thread
as aiohttp does, and kept (:class:`EnvProxies`): HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply as
they do for httpx, read when a host is first reached.

A streamed answer (``text/event-stream``) is also read at a pace: once its deltas have flowed
for :data:`EAGER_SECONDS`, the body is read at most every :data:`READ_EVERY` seconds, so what
arrived meanwhile comes in one read and :class:`~bot.core.sse_merge.DeltaMerger` makes one event
of each run of deltas in it (about five tokens an event at 50 tokens a second, instead of one).
The first words of an answer are not held back, and a person never sees the difference: the
reply in Slack is drawn about once a second. While it waits the socket is not read at all
(aiohttp's ``pause_reading``, as its own flow control does), so the event loop too wakes once
per read instead of once per token, and a connection the provider closes meanwhile is
reported only after the bytes it sent before closing have been read.

Usage::

    client = httpx2.AsyncClient(transport=AiohttpTransport(httpx2.Limits(max_connections=100)))
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx2
from aiohttp.helpers import BasicAuth, get_env_proxy_for_url
from yarl import URL

from bot.core.sse_merge import DeltaMerger

DEFAULT_KEEPALIVE = 5.0
EAGER_SECONDS = 0.5
"""How long a stream's deltas are read as they come, so its first words show at once."""
READ_EVERY = 0.1
"""After that, the shortest time between two reads of a streamed body."""


class StreamDropped(httpx2.ReadError):
    """The connection broke while a successful response's body was being read.

    A transport error (the SDKs handle it as one), but one that tells a stream that broke
    mid-way, which no transport can retry, from a request that never got a response, which the
    retrying transport already did.
    """


class EnvProxies:
    """The environment's proxy for each scheme and host, looked up once (in a thread: it may
    read ~/.netrc) and kept for every later request there."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str | None], tuple[URL | None, BasicAuth | None]] = {}

    async def for_url(self, url: URL) -> tuple[URL | None, BasicAuth | None]:
        key = (url.scheme, url.host)
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = await asyncio.to_thread(_env_proxy, url)
        return known


def _env_proxy(url: URL) -> tuple[URL | None, BasicAuth | None]:
    try:
        return get_env_proxy_for_url(url)
    except LookupError:  # no proxy for this URL, or NO_PROXY names its host
        return None, None


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport over one aiohttp session (opened on first use, in the running loop)."""

    def __init__(self, limits: httpx2.Limits | None = None) -> None:
        self._limits = limits or httpx2.Limits()
        self._session: aiohttp.ClientSession | None = None
        self._proxies = EnvProxies()

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry or DEFAULT_KEEPALIVE,
            ssl=httpx2.create_ssl_context(),
        )
        # The environment's proxies come from EnvProxies, once per host, not per request.
        return aiohttp.ClientSession(connector=connector, auto_decompress=False, trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        url = str(request.url)
        proxy, proxy_auth = await self._proxies.for_url(URL(url))
        try:
            response = await self._session.request(
                request.method,
                url,
                proxy=proxy,
                proxy_auth=proxy_auth,
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except aiohttp.ClientError as exc:
            raise _request_error(exc) from exc
        return httpx2.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(response, paced=_is_event_stream(response)),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()}
            if response.reason
            else {"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


class _Body(httpx2.AsyncByteStream):
    """A response body as aiohttp delivers it; a paced one (an event stream) in reads at most
    :data:`READ_EVERY` apart once it is under way, its deltas merged."""

    def __init__(self, response: aiohttp.ClientResponse, *, paced: bool = False) -> None:
        self._response = response
        self._paced = paced

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            if self._paced:
                async for merged in self._paced_chunks():
                    yield merged
            else:
                async for chunk in self._response.content.iter_any():
                    yield chunk
        except aiohttp.ServerTimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc) or "read timed out") from exc
        except aiohttp.ClientError as exc:
            raise StreamDropped(str(exc) or type(exc).__name__) from exc

    async def _paced_chunks(self) -> AsyncIterator[bytes]:
        content = self._response.content
        merger = DeltaMerger()
        clock = asyncio.get_running_loop().time
        pace_from: float | None = None  # when the eager start ends
        next_read = 0.0
        while True:
            if pace_from is not None and (now := clock()) >= pace_from and now < next_read:
                await self._wait(next_read - now)
            chunk = await content.readany()
            if not chunk:
                break
            now = clock()
            next_read = now + READ_EVERY
            out = merger.feed(chunk)
            if pace_from is None and merger.deltas:
                pace_from = now + EAGER_SECONDS
            if out:
                yield out
        rest = merger.flush()
        if rest:
            yield rest

    async def _wait(self, seconds: float) -> None:
        """Wait with the socket unread: the kernel gathers what comes meanwhile, and the event
        loop wakes once for all of it instead of once per token (and a connection that closes
        meanwhile is reported only after what it sent before)."""
        connection = self._response.connection
        protocol = connection.protocol if connection is not None else None
        if protocol is None:
            await asyncio.sleep(seconds)
            return
        protocol.pause_reading()
        try:
            await asyncio.sleep(seconds)
        finally:
            if protocol.transport is not None:
                protocol.resume_reading()

    async def aclose(self) -> None:
        # A body read to its end gives the connection back to the pool; any other is closed.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


def _is_event_stream(response: aiohttp.ClientResponse) -> bool:
    return response.content_type == "text/event-stream"


def _request_error(exc: aiohttp.ClientError) -> httpx2.TransportError:
    """httpx2's name for what went wrong before a response arrived."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx2.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx2.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx2.ConnectError(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx2.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx2.UnsupportedProtocol(message)
    return httpx2.ReadError(message)
