"""HTTP mode: the aiohttp application that receives Slack's requests, plus health endpoints.

`POST /slack/events` takes events, slash commands and interactivity alike. The signature is
checked here, before the body is parsed, so an unsigned or stale request gets 401 whatever it
contains, and a signed but malformed one gets 400 — never a traceback. `/healthz` says the
process is up; `/readyz` that it can reach its database and is taking work.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.signature import SignatureVerifier

from bot.app import Runtime
from bot.core.references import new_reference

log = logging.getLogger("teammate.server")

MAX_BODY_BYTES = 1024 * 1024
RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)


def build_web_app(runtime: Runtime) -> web.Application:
    web_app = build_health_app(runtime)
    verifier = SignatureVerifier(runtime.signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.json_response({"error": "invalid_signature"}, status=401)
        if not runtime.tracker.accepting:
            return web.json_response({"error": "shutting_down"}, status=503)
        try:
            bolt_request = await to_bolt_request(request)
            bolt_response = await runtime.app.async_dispatch(bolt_request)
        except Exception as exc:  # a signed request Bolt cannot parse: the sender's mistake
            reference = new_reference()
            log.warning("malformed Slack request ref=%s %s: %s", reference, type(exc).__name__, exc)
            return web.json_response({"error": "bad_request", "ref": reference}, status=400)
        return await to_aiohttp_response(bolt_response)

    async def shutdown(_: web.Application) -> None:
        await runtime.close()

    web_app.router.add_post("/slack/events", slack_events)
    web_app.on_shutdown.append(shutdown)
    return web_app


def build_health_app(runtime: Runtime) -> web.Application:
    """Only `/healthz` and `/readyz`: what a worker, which takes no Slack requests, serves to
    its orchestrator (and what `build_web_app` starts from)."""
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    web_app[RUNTIME_KEY] = runtime

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        try:
            await runtime.db.ping()
        except Exception as exc:
            return web.json_response({"ok": False, "database": type(exc).__name__}, status=503)
        if not runtime.tracker.accepting:
            return web.json_response({"ok": False, "reason": "shutting down"}, status=503)
        return web.json_response({"ok": True, "answering": runtime.tracker.active})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    return web_app
