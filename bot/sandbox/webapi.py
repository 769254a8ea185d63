"""The Web API endpoint, /api/{method}: parsing, auth, rate tiers, dispatch and the call log.

Answers the way Slack does: HTTP 200 with {"ok": true, ...} or {"ok": false, "error": ...};
HTTP 429 with Retry-After and {"ok": false, "error": "ratelimited"} over a tier.
Arguments may come as a query string, a form body or a JSON body (slack_sdk uses all three).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox import payloads, scopes
from bot.sandbox.calllog import CallLog
from bot.sandbox.holds import Holds
from bot.sandbox.methods import METHODS, ApiContext, ApiError, Call
from bot.sandbox.rates import RateLimiter

log = logging.getLogger(__name__)


class BadBody(Exception):
    """The body could not be read as the content type it claims."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def read_args(request: web.Request) -> dict[str, Any]:
    """Query parameters overlaid with the JSON or form body."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise BadBody("invalid_json") from exc
        if not isinstance(body, dict):
            raise BadBody("invalid_json")
        args.update(body)
    else:
        try:
            form = await request.post()
        except ValueError as exc:
            raise BadBody("invalid_form_data") from exc
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    token = args.get("token")
    return str(token) if token else None


APP_LEVEL_METHODS = frozenset({"apps.connections.open"})


def token_error(method: str, token: str, bot_token: str, app_token: str) -> str | None:
    """Slack's answer to a token: the app-level token (xapp-) opens Socket Mode connections
    and nothing else; the bot token does everything else; any other token is invalid."""
    if token not in (bot_token, app_token):
        return "invalid_auth"
    if (token == app_token) != (method in APP_LEVEL_METHODS):
        return "not_allowed_token_type"
    return None


class WebApi:
    """Serves the emulated Slack Web API."""

    def __init__(
        self,
        ctx: ApiContext,
        limiter: RateLimiter,
        calls: CallLog,
        bot_token: Callable[[], str],
        app_token: Callable[[], str] = lambda: "",
        granted: tuple[str, ...] | None = None,
    ) -> None:
        """granted: the bot scopes of the app's manifest (None: every scope)."""
        self.holds = Holds()
        self.ctx = ctx
        self.granted = frozenset(granted) if granted is not None else None
        self.limiter = limiter
        self.calls = calls
        self._bot_token = bot_token
        self._app_token = app_token
        self._reconfigured = asyncio.Event()

    def reconfigured(self) -> None:
        """The settings changed: stalled calls look again whether their method still is."""
        woken, self._reconfigured = self._reconfigured, asyncio.Event()
        woken.set()

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/api/{method}", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args = await read_args(request)
        except BadBody as exc:
            return self._answer(method, {}, error=exc.error)
        token = _token(request, args)
        args.pop("token", None)
        if method not in METHODS or method in self.ctx.config.disabled_methods:
            return self._answer(method, args, error="unknown_method")
        if not token:
            return self._answer(method, args, error="not_authed")
        refused = token_error(method, token, self._bot_token(), self._app_token())
        if refused is not None:
            return self._answer(method, args, error=refused)
        needed = self._missing_scope(method, args)
        if needed:
            provided = ",".join(sorted(self.granted or ()))
            extra = {"needed": ",".join(needed), "provided": provided}
            return self._answer(method, args, error="missing_scope", extra=extra)
        retry_after = None
        if not self._owed_reconnect(method):
            retry_after = self.limiter.check(method, self._channel_key(args.get("channel")))
        if retry_after is not None:
            return self._answer(method, args, error="ratelimited", retry_after=retry_after)
        if method in self.ctx.config.stalled_methods:
            while method in self.ctx.config.stalled_methods:
                await self._reconfigured.wait()
            return self._answer(method, args, error="request_timeout")  # never carried out
        call = Call(method, args)
        try:
            data = METHODS[method](self.ctx, call)
        except ApiError as exc:
            return self._answer(method, args, error=exc.error, detail=exc.detail, notes=call.notes)
        except Exception:
            log.exception("sandbox method %s failed", method)
            return self._answer(method, args, error="internal_error", notes=call.notes)
        await self.holds.keep_back(method, args)
        return self._answer(method, args, data=data, notes=call.notes)

    def _missing_scope(self, method: str, args: dict[str, Any]) -> tuple[str, ...]:
        if self.granted is None:
            return ()
        ref = args.get("channel") or args.get("channel_id")
        channel = self.ctx.ws.find_channel(ref) if isinstance(ref, str) else None
        kind = payloads.channel_type(channel) if channel is not None else None
        return scopes.missing(method, kind, self.granted)

    def _owed_reconnect(self, method: str) -> bool:
        """A Socket Mode reconnect that the sandbox itself asked for passes every limit."""
        sockets = self.ctx.sockets
        return method in APP_LEVEL_METHODS and sockets is not None and sockets.take_refresh()

    def _channel_key(self, ref: Any) -> str | None:
        """The channel id a rate bucket is kept under, whatever name the caller used."""
        if not isinstance(ref, str) or not ref:
            return None
        channel = self.ctx.ws.find_channel(ref)
        return channel.id if channel is not None else ref

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        *,
        data: dict[str, Any] | None = None,
        error: str | None = None,
        detail: str | None = None,
        notes: list[str] | None = None,
        retry_after: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> web.Response:
        status = 429 if retry_after is not None else 200
        notes = list(notes or [])
        if detail:
            notes.append(detail)
        self.calls.record(method, args, ok=error is None, error=error, status=status, notes=notes)
        if error is None:
            body: dict[str, Any] = {"ok": True, **(data or {})}
        else:
            body = {"ok": False, "error": error, **(extra or {})}
            if detail:
                body["response_metadata"] = {"messages": [f"[ERROR] {detail}"]}
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return web.Response(
            status=status,
            text=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )
