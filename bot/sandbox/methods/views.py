"""views.open, views.push, views.update and views.publish: modals and the App Home tab.

The rules (trigger_ids, the stack, hashes) live in modals.Views; this module reads the
arguments the way Slack does and answers in Slack's words.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.methods.args import ApiError, Call
from bot.sandbox.methods.common import ApiContext, Handler
from bot.sandbox.modals import OpenView, ViewError, Views


def _views(ctx: ApiContext) -> Views:
    if ctx.views is None:
        raise ApiError("unknown_method", "views are not served here")
    return ctx.views


def _trigger(call: Call) -> str:
    trigger = call.optional("trigger_id") or call.optional("interactivity_pointer")
    if not trigger:
        raise ApiError("invalid_arguments", "missing trigger_id")
    return trigger


def _answer(shown: OpenView) -> dict[str, Any]:
    return {"view": shown.json()}


def _run(action: Any) -> dict[str, Any]:
    try:
        return _answer(action())
    except ViewError as exc:
        raise ApiError(exc.error, exc.detail) from exc


def views_open(ctx: ApiContext, call: Call) -> dict[str, Any]:
    views, trigger, view = _views(ctx), _trigger(call), call.structured("view")
    return _run(lambda: views.open(trigger, view))


def views_push(ctx: ApiContext, call: Call) -> dict[str, Any]:
    views, trigger, view = _views(ctx), _trigger(call), call.structured("view")
    return _run(lambda: views.push(trigger, view))


def views_update(ctx: ApiContext, call: Call) -> dict[str, Any]:
    views = _views(ctx)
    view_id, external_id = call.optional("view_id"), call.optional("external_id")
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", "view_id or external_id is required")
    view, hash_ = call.structured("view"), call.optional("hash")
    return _run(lambda: views.update(view, view_id=view_id, external_id=external_id, hash=hash_))


def views_publish(ctx: ApiContext, call: Call) -> dict[str, Any]:
    views = _views(ctx)
    ref = call.text("user_id", required=True, error="user_not_found")
    user = ctx.ws.find_user(ref)
    if user is None or user.is_bot:
        raise ApiError("user_not_found", ref)
    view, hash_ = call.structured("view"), call.optional("hash")
    current = views.home(user.id)
    if hash_ and current is not None and hash_ != current.view.get("hash"):
        raise ApiError("hash_conflict")
    return _run(lambda: views.publish(user.id, view))


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
