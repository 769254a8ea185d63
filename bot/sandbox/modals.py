"""Views an app shows a person: modals (a stack of up to three) and the App Home tab.

Slack's rules, as an app meets them:
  * a modal opens only with a trigger_id from something the person just did (a slash
    command, a click, a submission); it can be exchanged once, within 3 seconds;
  * `views.push` adds a view on top of an open modal (at most 3 in the stack), `views.update`
    replaces any of them by view_id or external_id (with `hash`, only if nobody changed it
    since), and the ack of a view_submission can answer errors, update, push or clear;
  * each view keeps what the person entered so far (an update keeps it where the block and
    action ids stay the same), and every payload about the view carries it as
    `view.state.values`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import blockstate, ids
from bot.sandbox.limits import VIEW_BLOCKS_MAX, BlocksError, check_blocks
from bot.sandbox.state import Workspace

TRIGGER_LIFETIME_S = 3.0
STACK_MAX = 3
TITLE_MAX = 24
BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
_TRIGGERS_KEPT = 10_000


class ViewError(Exception):
    """A Slack error answer for a views.* call: `error`, and a detail for the log."""

    def __init__(self, error: str, detail: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


@dataclass
class Trigger:
    user: str
    issued: float
    used: bool = False


class Triggers:
    """trigger_ids handed to the app with each interaction, exchangeable once for a modal."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._issued: dict[str, Trigger] = {}

    def issue(self, user: str) -> str:
        trigger = ids.trigger_id()
        self._issued[trigger] = Trigger(user, self._clock())
        while len(self._issued) > _TRIGGERS_KEPT:
            self._issued.pop(next(iter(self._issued)))
        return trigger

    def exchange(self, trigger_id: str) -> str:
        """The user the trigger belongs to; raises ViewError as Slack answers a bad one."""
        found = self._issued.get(trigger_id)
        if found is None:
            raise ViewError("invalid_arguments", "invalid `trigger_id`")
        if found.used:
            raise ViewError("exchanged_trigger_id", "the trigger_id was already exchanged")
        if self._clock() - found.issued > TRIGGER_LIFETIME_S:
            raise ViewError("expired_trigger_id", "the trigger_id is older than 3 seconds")
        found.used = True
        return found.user

    def clear(self) -> None:
        self._issued.clear()


@dataclass
class OpenView:
    """A view shown to one person, and what they entered in it so far."""

    view: dict[str, Any]
    user: str
    chosen: blockstate.Chosen = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.view["id"])

    def json(self) -> dict[str, Any]:
        """The view as Slack sends it to the app: with its state."""
        values = blockstate.state_values(self.view.get("blocks"), self.chosen)
        return {**self.view, "state": {"values": values}}


def _text_len(obj: Any) -> int:
    return len(str(obj.get("text", ""))) if isinstance(obj, dict) else 0


def _check_plain(view: dict[str, Any], name: str, limit: int, *, required: bool) -> None:
    obj = view.get(name)
    if obj is None:
        if required:
            raise ViewError(
                "invalid_arguments", f"must provide an object [json-pointer:/view/{name}]"
            )
        return
    if not isinstance(obj, dict) or obj.get("type") != "plain_text":
        raise ViewError(
            "invalid_arguments", f"must be a plain_text object [json-pointer:/view/{name}]"
        )
    if not 0 < _text_len(obj) <= limit:
        raise ViewError(
            "invalid_arguments",
            f"must be 1 to {limit} characters [json-pointer:/view/{name}/text]",
        )


def check_view(view: Any, kind: str) -> dict[str, Any]:
    """A view Slack would accept, of type `kind` ("modal" or "home")."""
    if not isinstance(view, dict):
        raise ViewError("invalid_arguments", "view must be an object")
    if view.get("type") != kind:
        raise ViewError("invalid_arguments", f"view must be of type {kind}")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise ViewError("invalid_arguments", "must provide an array [json-pointer:/view/blocks]")
    try:
        check_blocks(blocks, max_blocks=VIEW_BLOCKS_MAX)
    except BlocksError as exc:
        raise ViewError("invalid_arguments", str(exc)) from exc
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA_MAX:
        raise ViewError("invalid_arguments", "private_metadata over 3000 characters")
    if len(str(view.get("callback_id") or "")) > CALLBACK_ID_MAX:
        raise ViewError("invalid_arguments", "callback_id over 255 characters")
    if kind == "modal":
        _check_plain(view, "title", TITLE_MAX, required=True)
        has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        _check_plain(view, "submit", BUTTON_MAX, required=has_inputs)
        _check_plain(view, "close", BUTTON_MAX, required=False)
    return view


def _with_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack gives every block and interactive element an id when the app gave none."""
    result = []
    for block in blocks:
        block = dict(block)
        if not block.get("block_id"):
            block["block_id"] = secrets.token_urlsafe(4)
        for key in ("element", "accessory"):
            element = block.get(key)
            if isinstance(element, dict) and not element.get("action_id"):
                block[key] = {**element, "action_id": secrets.token_urlsafe(4)}
        if block.get("type") == "actions" and isinstance(block.get("elements"), list):
            block["elements"] = [
                {**e, "action_id": e.get("action_id") or secrets.token_urlsafe(4)}
                if isinstance(e, dict)
                else e
                for e in block["elements"]
            ]
        result.append(block)
    return result


def _still_there(chosen: blockstate.Chosen, blocks: list[dict[str, Any]]) -> blockstate.Chosen:
    """What a person entered survives an update where the block and action ids are the same."""
    kept: blockstate.Chosen = {}
    for block_id, entries in chosen.items():
        for action_id, choice in entries.items():
            found = blockstate.find_element(blocks, action_id)
            if found is not None and found["block_id"] == block_id:
                kept.setdefault(block_id, {})[action_id] = choice
    return kept


def view_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


class Views:
    """Every modal stack and Home tab the app has shown, by user and by view id."""

    def __init__(self, ws: Workspace, triggers: Triggers) -> None:
        self.ws = ws
        self.triggers = triggers
        self.stacks: dict[str, list[OpenView]] = {}
        self._homes: dict[str, OpenView] = {}

    # -- building ------------------------------------------------------------------------------

    def _stored(
        self, view: dict[str, Any], view_id: str, root: str | None, previous: str | None
    ) -> dict[str, Any]:
        ident = self.ws.identity
        kind = view["type"]
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": ident.team_id,
            "type": kind,
            "blocks": _with_ids(view.get("blocks") or []),
            "private_metadata": str(view.get("private_metadata") or ""),
            "callback_id": str(view.get("callback_id") or ""),
            "external_id": str(view.get("external_id") or ""),
            "hash": view_hash(),
            "app_id": ident.app_id,
            "app_installed_team_id": ident.team_id,
            "bot_id": ident.bot_id,
        }
        if kind == "modal":
            stored.update(
                {
                    "title": view["title"],
                    "close": view.get("close"),
                    "submit": view.get("submit"),
                    "clear_on_close": bool(view.get("clear_on_close", False)),
                    "notify_on_close": bool(view.get("notify_on_close", False)),
                    "previous_view_id": previous,
                    "root_view_id": root or view_id,
                    "submit_disabled": bool(view.get("submit_disabled", False)),
                }
            )
        else:
            stored["title"] = view.get("title")
            stored["close"] = None
            stored["submit"] = None
            stored["previous_view_id"] = None
            stored["root_view_id"] = view_id
        return stored

    def _external_taken(self, external_id: str, but: str | None = None) -> bool:
        if not external_id:
            return False
        return any(v.view.get("external_id") == external_id and v.id != but for v in self.all())

    def all(self) -> list[OpenView]:
        found = [v for stack in self.stacks.values() for v in stack]
        return found + list(self._homes.values())

    # -- modals --------------------------------------------------------------------------------

    def open(self, trigger_id: str, view: Any) -> OpenView:
        """views.open: a new modal stack for the person the trigger belongs to."""
        view = check_view(view, "modal")
        if self._external_taken(str(view.get("external_id") or "")):
            raise ViewError("duplicate_external_id")
        user = self.triggers.exchange(trigger_id)
        view_id = ids.view_id()
        shown = OpenView(self._stored(view, view_id, None, None), user)
        self.stacks[user] = [shown]
        self._changed(user)
        return shown

    def push(self, trigger_id: str, view: Any) -> OpenView:
        """views.push: a view on top of the person's open modal."""
        view = check_view(view, "modal")
        user = self.triggers.exchange(trigger_id)
        return self.push_for(user, view)

    def push_for(self, user: str, view: dict[str, Any]) -> OpenView:
        stack = self.stacks.get(user)
        if not stack:
            raise ViewError("invalid_arguments", "no modal is open to push onto")
        if len(stack) >= STACK_MAX:
            raise ViewError("push_limit_reached")
        if self._external_taken(str(view.get("external_id") or "")):
            raise ViewError("duplicate_external_id")
        top = stack[-1]
        view_id = ids.view_id()
        stored = self._stored(view, view_id, top.view["root_view_id"], top.id)
        shown = OpenView(stored, user)
        stack.append(shown)
        self._changed(user)
        return shown

    def update(
        self,
        view: Any,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> OpenView:
        """views.update: replaces a modal in a stack, or a Home tab, keeping its id."""
        target = self.find(view_id=view_id, external_id=external_id)
        if target is None:
            raise ViewError("not_found", view_id or external_id)
        if hash and hash != target.view.get("hash"):
            raise ViewError("hash_conflict")
        kind = target.view["type"]
        view = check_view(view, kind)
        return self.replace(target, view)

    def replace(self, target: OpenView, view: dict[str, Any]) -> OpenView:
        if self._external_taken(str(view.get("external_id") or ""), but=target.id):
            raise ViewError("duplicate_external_id")
        root = target.view.get("root_view_id")
        previous = target.view.get("previous_view_id")
        target.view = self._stored(view, target.id, root, previous)
        target.chosen = _still_there(target.chosen, target.view["blocks"])
        target.errors = {}
        if target.view["type"] == "home":
            self.ws.set_home(target.user, target.view)
        self._changed(target.user)
        return target

    def find(
        self, *, view_id: str | None = None, external_id: str | None = None
    ) -> OpenView | None:
        for shown in self.all():
            if view_id and shown.id == view_id:
                return shown
            if external_id and shown.view.get("external_id") == external_id:
                return shown
        if view_id:
            return self._home_by_id(view_id)
        return None

    def top(self, user: str) -> OpenView | None:
        stack = self.stacks.get(user)
        return stack[-1] if stack else None

    def pop(self, user: str) -> OpenView | None:
        """Closes the top view (the person pressed Cancel/Back, or the app acked a submit)."""
        stack = self.stacks.get(user)
        if not stack:
            return None
        closed = stack.pop()
        if not stack:
            self.stacks.pop(user, None)
        self._changed(user)
        return closed

    def clear(self, user: str) -> list[OpenView]:
        """Closes every view in the person's stack."""
        closed = self.stacks.pop(user, [])
        if closed:
            self._changed(user)
        return closed

    # -- the Home tab --------------------------------------------------------------------------

    def publish(self, user: str, view: Any) -> OpenView:
        """views.publish: the person's Home tab, keeping its id across publishes."""
        view = check_view(view, "home")
        previous = self.home(user)
        view_id = previous.id if previous is not None else ids.view_id()
        shown = OpenView(self._stored(view, view_id, None, None), user)
        self._homes[user] = shown
        self.ws.set_home(user, shown.view)
        return shown

    def home(self, user: str) -> OpenView | None:
        """The person's Home tab; one restored from a state file is adopted here."""
        shown = self._homes.get(user)
        stored = self.ws.home.get(user)
        if stored is None:
            self._homes.pop(user, None)
            return None
        if shown is None or shown.view is not stored:
            shown = OpenView(stored, user)
            self._homes[user] = shown
        return shown

    def _home_by_id(self, view_id: str) -> OpenView | None:
        for user, stored in self.ws.home.items():
            if stored.get("id") == view_id:
                return self.home(user)
        return None

    # -- what people see -----------------------------------------------------------------------

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """user → their modal stack, bottom first, with what they entered and the errors."""
        return {
            user: [{**v.json(), "errors": dict(v.errors)} for v in stack]
            for user, stack in self.stacks.items()
        }

    def reset(self) -> None:
        self.stacks.clear()
        self._homes.clear()
        self.triggers.clear()

    def _changed(self, user: str) -> None:
        self.ws.changed("modal", user=user)
