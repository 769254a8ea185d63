"""The JSON control API under /_sandbox/: act as people, look at the workspace, steer delivery.

Each route is a thin wrapper over the same-named Sandbox method, so tests can use either.
Errors answer {"error": "..."} with 400 (bad request), 404 (unknown user, channel,
message) or 409 (already exists); a wait that times out answers 408 with what it has so far.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.lookup import ControlError

if TYPE_CHECKING:
    from bot.sandbox.server import Sandbox

Route = Callable[[web.Request], Awaitable[Any]]
PREFIX = "/_sandbox"


def _endpoint(handler: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Turns a handler's return value into JSON and its errors into JSON error answers."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            result = await handler(request)
        except ControlError as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        if isinstance(result, web.Response):
            return result
        return web.json_response(result)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise ControlError("body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _need(data: dict[str, Any], *names: str) -> list[Any]:
    missing = [n for n in names if data.get(n) in (None, "")]
    if missing:
        raise ControlError(f"missing {', '.join(missing)}")
    return [data[n] for n in names]


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def routes(sandbox: Sandbox) -> list[web.RouteDef]:
    """Every control route, bound to one sandbox."""

    async def info(request: web.Request) -> Any:
        return sandbox.info()

    async def post_message(request: web.Request) -> Any:
        body = await _body(request)
        user, channel, text = _need(body, "user", "channel", "text")
        return sandbox.post_message(user, channel, text, body.get("thread_ts"), body.get("blocks"))

    async def edit_message(request: web.Request) -> Any:
        body = await _body(request)
        channel, ts, text = _need(body, "channel", "ts", "text")
        return sandbox.edit_message(channel, ts, text)

    async def delete_message(request: web.Request) -> Any:
        body = await _body(request)
        channel, ts = _need(body, "channel", "ts")
        return sandbox.delete_message(channel, ts)

    async def run_command(request: web.Request) -> Any:
        body = await _body(request)
        user, channel, command = _need(body, "user", "channel", "command")
        return await sandbox.run_command(user, channel, command, body.get("text", ""))

    async def click(request: web.Request) -> Any:
        """On a message ({channel, message_ts}) or in a view ({view_id}, "home" for Home)."""
        body = await _body(request)
        user, action_id = _need(body, "user", "action_id")
        if body.get("view_id"):
            return await sandbox.act_in_view(user, body["view_id"], action_id, body.get("value"))
        channel, ts = _need(body, "channel", "message_ts")
        return await sandbox.click(user, channel, ts, action_id, body.get("value"))

    async def modals(request: web.Request) -> Any:
        (user,) = _need(dict(request.query), "user")
        return {"views": sandbox.modals(user)}

    async def submit_view(request: web.Request) -> Any:
        body = await _body(request)
        user, view_id = _need(body, "user", "view_id")
        values = body.get("values") or {}
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ControlError("values must be {block_id: {action_id: value}}")
        return await sandbox.submit_view(user, view_id, values)

    async def close_view(request: web.Request) -> Any:
        body = await _body(request)
        user, view_id = _need(body, "user", "view_id")
        return await sandbox.close_view(user, view_id, clear=bool(body.get("clear", False)))

    async def view_options(request: web.Request) -> Any:
        body = await _body(request)
        user, action_id = _need(body, "user", "action_id")
        where = {k: body[k] for k in ("view_id", "channel", "message_ts") if body.get(k)}
        return await sandbox.suggest(user, action_id, str(body.get("query", "")), **where)

    async def manifest(request: web.Request) -> Any:
        return sandbox.manifest.view()

    async def open_assistant(request: web.Request) -> Any:
        body = await _body(request)
        (user,) = _need(body, "user")
        return sandbox.open_assistant_thread(user, body.get("context_channel"))

    async def open_home(request: web.Request) -> Any:
        body = await _body(request)
        (user,) = _need(body, "user")
        return sandbox.open_home(user)

    async def thread(request: web.Request) -> Any:
        channel, ts = _need(dict(request.query), "channel", "ts")
        messages = sandbox.thread(channel, ts)
        if not messages:
            raise ControlError(f"no thread {ts!r}", 404)
        return {"channel": messages[0]["channel"], "ts": messages[0]["ts"], "messages": messages}

    async def wait_thread(request: web.Request) -> Any:
        query = dict(request.query)
        channel, ts = _need(query, "channel", "ts")
        count = int(query.get("replies", "1"))
        timeout = min(float(query.get("timeout", "10")), 300.0)
        done = query.get("done", "true") != "false"
        from_bot = _flag(query.get("from_bot"))
        try:
            await sandbox.wait_for_replies(
                channel, ts, count, timeout, done=done, from_bot=from_bot
            )
        except TimeoutError:
            body = {"error": "timeout", "messages": sandbox.thread(channel, ts)}
            return web.json_response(body, status=408)
        return {"messages": sandbox.thread(channel, ts)}

    async def channels(request: web.Request) -> Any:
        return {"channels": sandbox.channels()}

    async def add_channel(request: web.Request) -> Any:
        body = await _body(request)
        (name,) = _need(body, "name")
        channel = sandbox.add_channel(
            name,
            id=body.get("id"),
            is_private=bool(body.get("is_private", False)),
            bot_member=bool(body.get("bot_member", True)),
            members=body.get("members"),
            topic=body.get("topic", ""),
            is_ext_shared=bool(body.get("is_ext_shared", False)),
        )
        return {"channel": channel}

    async def channel_messages(request: web.Request) -> Any:
        include = _flag(request.query.get("replies"))
        channel = request.match_info["channel"]
        return {"messages": sandbox.channel_messages(channel, include_replies=include)}

    async def members(request: web.Request) -> Any:
        body = await _body(request)
        channel = request.match_info["channel"]
        add = list(body.get("add", []))
        remove = list(body.get("remove", []))
        if body.get("user"):
            (remove if body.get("action") == "remove" else add).append(body["user"])
        return {"members": sandbox.set_members(channel, add, remove)}

    async def users(request: web.Request) -> Any:
        return {"users": sandbox.users()}

    async def add_user(request: web.Request) -> Any:
        body = await _body(request)
        (name,) = _need(body, "name")
        user = sandbox.add_user(
            name,
            body.get("real_name"),
            id=body.get("id"),
            display_name=body.get("display_name"),
            tz=body.get("tz", "UTC"),
            email=body.get("email"),
            title=body.get("title", ""),
            is_admin=bool(body.get("is_admin", False)),
            is_owner=bool(body.get("is_owner", False)),
        )
        return {"user": user}

    async def ephemeral(request: web.Request) -> Any:
        (user,) = _need(dict(request.query), "user")
        return {"messages": sandbox.ephemeral(user, request.query.get("channel"))}

    async def assistant(request: web.Request) -> Any:
        channel, thread_ts = _need(dict(request.query), "channel", "thread_ts")
        found = sandbox.assistant(channel, thread_ts)
        if found is None:
            raise ControlError("the bot set nothing on this thread", 404)
        return found

    async def home(request: web.Request) -> Any:
        (user,) = _need(dict(request.query), "user")
        return {"view": sandbox.home(user)}

    async def calls(request: web.Request) -> Any:
        method = request.query.get("method")
        return {"calls": sandbox.calls(method), "ratelimited": sandbox.ratelimited}

    async def deliveries(request: web.Request) -> Any:
        query = request.query
        found = sandbox.deliveries(query.get("kind"), query.get("id"))
        return {"deliveries": found, "paused": sandbox.delivery.paused}

    async def redeliver(request: web.Request) -> Any:
        body = await _body(request)
        (event_id,) = _need(body, "event_id")
        retry_num = int(body.get("retry_num", 1))
        reason = str(body.get("retry_reason", "http_timeout"))
        return await sandbox.redeliver(event_id, retry_num, reason)

    async def pause(request: web.Request) -> Any:
        sandbox.pause_delivery()
        return {"paused": True}

    async def resume(request: web.Request) -> Any:
        sandbox.resume_delivery()
        return {"paused": False}

    async def sockets(request: web.Request) -> Any:
        return {"connections": sandbox.socket_connections()}

    async def disconnect_sockets(request: web.Request) -> Any:
        body = await _body(request)
        reason = str(body.get("reason", "refresh_requested"))
        return {"asked": await sandbox.disconnect_sockets(reason)}

    async def close_sockets(request: web.Request) -> Any:
        await sandbox.close_sockets()
        return {"connections": sandbox.socket_connections()}

    async def reset(request: web.Request) -> Any:
        sandbox.reset()
        return {"reset": True}

    async def get_config(request: web.Request) -> Any:
        return sandbox.config.to_json()

    async def set_config(request: web.Request) -> Any:
        body = await _body(request)
        try:
            return sandbox.configure(**body)
        except KeyError as exc:
            raise ControlError(f"unknown setting {exc.args[0]!r}") from exc

    table: list[tuple[str, str, Route]] = [
        ("GET", "", info),
        ("GET", "/", info),
        ("GET", "/info", info),
        ("POST", "/messages", post_message),
        ("POST", "/messages/edit", edit_message),
        ("POST", "/messages/delete", delete_message),
        ("POST", "/commands", run_command),
        ("POST", "/actions", click),
        ("GET", "/views", modals),
        ("POST", "/views/submit", submit_view),
        ("POST", "/views/close", close_view),
        ("POST", "/views/options", view_options),
        ("GET", "/manifest", manifest),
        ("POST", "/assistant/threads", open_assistant),
        ("GET", "/assistant", assistant),
        ("POST", "/home/open", open_home),
        ("GET", "/home", home),
        ("GET", "/threads", thread),
        ("GET", "/threads/wait", wait_thread),
        ("GET", "/channels", channels),
        ("POST", "/channels", add_channel),
        ("GET", "/channels/{channel}/messages", channel_messages),
        ("POST", "/channels/{channel}/members", members),
        ("GET", "/users", users),
        ("POST", "/users", add_user),
        ("GET", "/ephemeral", ephemeral),
        ("GET", "/calls", calls),
        ("GET", "/deliveries", deliveries),
        ("POST", "/deliveries/redeliver", redeliver),
        ("POST", "/deliveries/pause", pause),
        ("POST", "/deliveries/resume", resume),
        ("GET", "/sockets", sockets),
        ("POST", "/sockets/disconnect", disconnect_sockets),
        ("POST", "/sockets/close", close_sockets),
        ("POST", "/reset", reset),
        ("GET", "/config", get_config),
        ("POST", "/config", set_config),
    ]
    return [web.route(verb, PREFIX + path, _endpoint(fn)) for verb, path, fn in table]
