"""The model SDKs' transport honours the proxy settings an admin sets, as httpx does."""

from __future__ import annotations

import httpx2
import pytest
from aiohttp import web

from bot.core.http_transport import AiohttpTransport


async def test_requests_go_through_the_proxy_named_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.url}")
        return web.json_response({"via": "proxy"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        async with httpx2.AsyncClient(transport=AiohttpTransport()) as client:
            response = await client.get("http://models.internal.example/v1/models")
        assert response.json() == {"via": "proxy"}
        assert seen == ["GET http://models.internal.example/v1/models"]
    finally:
        await runner.cleanup()
