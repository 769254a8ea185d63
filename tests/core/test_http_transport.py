"""The model SDKs' transport honours the proxy settings an admin sets, as httpx does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from aiohttp import web

from bot.core.http_transport import AiohttpTransport


@asynccontextmanager
async def answering(via: str, seen: list[str] | None = None) -> AsyncIterator[int]:
    """A local server that answers every request with ``{"via": via}``; yields its port."""

    async def answer(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append(f"{request.method} {request.url}")
        return web.json_response({"via": via})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()


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
