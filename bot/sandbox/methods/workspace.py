"""auth.test, users.*, team.info, bots.info, reactions.*, apps.connections.open."""

from __future__ import annotations

from typing import Any

from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import (
    ApiContext,
    Handler,
    channel_arg,
    decode_cursor,
    encode_cursor,
)
from bot.sandbox.shapes import bot_profile, user_json
from bot.sandbox.state import Message


def auth_test(ctx: ApiContext, call: Call) -> dict[str, Any]:
    ident = ctx.ws.identity
    return {
        "url": ctx.base_url() + "/",
        "team": ident.team_name,
        "user": ident.bot_name,
        "team_id": ident.team_id,
        "user_id": ident.bot_user_id,
        "bot_id": ident.bot_id,
        "app_id": ident.app_id,
        "is_enterprise_install": False,
    }


def users_info(ctx: ApiContext, call: Call) -> dict[str, Any]:
    ref = call.text("user", required=True, error="user_not_found")
    user = ctx.ws.find_user(ref)
    if user is None:
        raise ApiError("user_not_found", ref)
    return {"user": user_json(user, ctx.ws)}


def users_list(ctx: ApiContext, call: Call) -> dict[str, Any]:
    everyone = [user_json(u, ctx.ws) for u in ctx.ws.users.values()]
    limit = call.number("limit", 200, high=1000)
    cursor = call.optional("cursor")
    try:
        start = int(decode_cursor(cursor)) if cursor else 0
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc
    more = start + limit < len(everyone)
    return {
        "members": everyone[start : start + limit],
        "response_metadata": {"next_cursor": encode_cursor(str(start + limit)) if more else ""},
    }


def team_info(ctx: ApiContext, call: Call) -> dict[str, Any]:
    ident = ctx.ws.identity
    return {"team": {"id": ident.team_id, "name": ident.team_name, "domain": ident.team_domain}}


def bots_info(ctx: ApiContext, call: Call) -> dict[str, Any]:
    if call.text("bot", required=True, error="bot_not_found") != ctx.ws.identity.bot_id:
        raise ApiError("bot_not_found")
    return {"bot": bot_profile(ctx.ws)}


def _reacted(ctx: ApiContext, call: Call) -> tuple[Message, str]:
    channel = channel_arg(ctx, call)
    ts = call.text("timestamp", required=True, error="message_not_found")
    message = ctx.ws.find_message(channel, ts)
    if message is None:
        raise ApiError("message_not_found", ts)
    name = call.text("name", required=True, error="invalid_name").strip(":")
    return message, name


def reactions_add(ctx: ApiContext, call: Call) -> dict[str, Any]:
    message, name = _reacted(ctx, call)
    users = message.reactions.setdefault(name, [])
    if ctx.ws.identity.bot_user_id in users:
        raise ApiError("already_reacted")
    users.append(ctx.ws.identity.bot_user_id)
    ctx.ws.touched(message)
    return {}


def reactions_remove(ctx: ApiContext, call: Call) -> dict[str, Any]:
    message, name = _reacted(ctx, call)
    users = message.reactions.get(name, [])
    if ctx.ws.identity.bot_user_id not in users:
        raise ApiError("no_reaction")
    users.remove(ctx.ws.identity.bot_user_id)
    if not users:
        message.reactions.pop(name, None)
    ctx.ws.touched(message)
    return {}


def connections_open(ctx: ApiContext, call: Call) -> dict[str, Any]:
    """A one-time Socket Mode URL (the web API has already checked the app-level token)."""
    if ctx.sockets is None:
        raise ApiError("not_allowed_token_type", "Socket Mode is not served here")
    return {"url": ctx.sockets.issue_url()}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "team.info": team_info,
    "bots.info": bots_info,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "apps.connections.open": connections_open,
}
