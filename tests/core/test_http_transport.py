"""The model SDKs' transport: the proxy settings an admin sets, as httpx honours them; a
streamed body read at a pace."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx2
import pytest
from aiohttp import web

from bot.core.http_transport import AiohttpTransport, StreamDropped


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[int]:
    """``app`` on a free local port, yielded."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def answering(via: str, seen: list[str] | None = None) -> AsyncIterator[int]:
    """A local server that answers every request with ``{"via": via}``; yields its port."""

    async def answer(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(f"{request.method} {request.url}")
        return web.json_response({"via": via})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    async with serving(app) as port:
        yield port


async def test_requests_go_through_the_proxy_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []
    async with answering("proxy", seen) as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with httpx2.AsyncClient(transport=AiohttpTransport()) as client:
            response = await client.get("http://models.internal.example/v1/models")
        assert response.json() == {"via": "proxy"}
        assert seen == ["GET http://models.internal.example/v1/models"]


async def test_a_host_named_in_no_proxy_is_reached_directly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with answering("direct") as port:
        # A proxy that is not there: a request sent through it would fail to connect.
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with httpx2.AsyncClient(transport=AiohttpTransport()) as client:
            for _ in range(2):  # the second request uses what the first looked up
                response = await client.get(f"http://127.0.0.1:{port}/v1/models")
                assert response.json() == {"via": "direct"}


async def test_a_paced_stream_closed_mid_body_still_delivers_what_was_sent_before() -> None:
    """The body waits between reads once under way; what arrives in a wait is read before the
    broken connection is reported, so the person sees every word the model sent."""
    pieces = [f"w{n} " for n in range(40)]

    def event(text: str) -> bytes:
        data = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        return b"event: content_block_delta\ndata: %s\n\n" % json.dumps(data).encode()

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for piece in pieces[:35]:
            await response.write(event(piece))
            await asyncio.sleep(0.02)
        for piece in pieces[35:]:  # the last words at once, then the connection closes
            await response.write(event(piece))
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/stream", stream)
    received = b""
    async with (
        serving(app) as port,
        httpx2.AsyncClient(transport=AiohttpTransport()) as client,
        client.stream("GET", f"http://127.0.0.1:{port}/stream") as response,
    ):
        with pytest.raises(StreamDropped):
            async for chunk in response.aiter_bytes():
                received += chunk
    texts = [
        json.loads(line.removeprefix(b"data: "))["delta"]["text"]
        for line in received.split(b"\n")
        if line.startswith(b"data: ")
    ]
    assert "".join(texts) == "".join(pieces)
    assert len(texts) < len(pieces)
