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

DEFAULT_KEEPALIVE = 5.0


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
            stream=_Body(response),
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
    """A response body as aiohttp delivers it: each chunk as it arrived, no re-chunking."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except aiohttp.ServerTimeoutError as exc:
            raise httpx2.ReadTimeout(str(exc) or "read timed out") from exc
        except aiohttp.ClientError as exc:
            raise StreamDropped(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        # A body read to its end gives the connection back to the pool; any other is closed.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


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
