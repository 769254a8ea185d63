"""What people do with the app itself: slash commands, clicks and choices on messages, modals
and the Home tab, submitting and closing modals. One request (or Socket Mode envelope) each,
acknowledged within the ack timeout; each hands the app a fresh trigger_id.

Slack does not retry these. When the app is slow or fails, Slack tells the user instead:
the result carries a `note` with that message (and a command's note is shown to the user as
an ephemeral message from Slackbot, as in Slack). Only commands the app's manifest declares
reach it; any other is refused as Slack's client refuses it.
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox import blockstate, payloads
from bot.sandbox.app_manifest import AppManifest
from bot.sandbox.delivery import Delivery
from bot.sandbox.lookup import ControlError, require_channel, require_user
from bot.sandbox.modals import OpenView, ViewError, Views, check_view
from bot.sandbox.outgoing import Outgoing
from bot.sandbox.responses import HookError, ResponseUrls
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Channel, User, Workspace

SUBMIT_TROUBLE = "We had some trouble connecting. Try again?"


def _failure(record: dict[str, Any]) -> str:
    return "operation_timeout" if record["outcome"] == "timeout" else "dispatch_failed"


def _result(record: dict[str, Any], trigger: str) -> dict[str, Any]:
    return {
        "status": record["status"],
        "body": record["body"],
        "elapsed_ms": record["elapsed_ms"],
        "trigger_id": trigger,
        "outcome": record["outcome"],
        "failed": not record["ok"],
        "note": None,
    }


def _reply(body: str) -> dict[str, Any] | None:
    """An ack's body as JSON, or None when it is empty or not an object."""
    if not body.strip():
        return None
    try:
        reply = json.loads(body)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


class Interactions:
    """Runs slash commands, clicks and modal submissions on behalf of users."""

    def __init__(
        self,
        ws: Workspace,
        delivery: Delivery,
        hooks: ResponseUrls,
        verification_token: str,
        views: Views,
        manifest: AppManifest,
    ) -> None:
        self.ws = ws
        self.delivery = delivery
        self.hooks = hooks
        self.verification_token = verification_token
        self.views = views
        self.manifest = manifest
        # (user, channel, ts) → block_id → action_id → choice: what a person picked on a
        # message, kept as Slack's client keeps it, for the message's state.values.
        self._message_choices: dict[tuple[str, str, str], blockstate.Chosen] = {}

    def clear(self) -> None:
        self._message_choices.clear()

    # -- slash commands ------------------------------------------------------------------------

    async def run_command(
        self, user: str, channel: str, command: str, text: str = ""
    ) -> dict[str, Any]:
        """Sends a slash command and shows the app's immediate reply, if any."""
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel)
        command = command if command.startswith("/") else f"/{command}"
        if self.manifest.command(command) is None:
            return self._refuse_command(person, room, command)
        trigger = self.views.triggers.issue(person.id)
        hook = self.hooks.create("command", room.id, person.id)
        fields = payloads.command_form(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            channel=room,
            command=command,
            text=text,
            response_url=self.hooks.url(hook),
            trigger_id=trigger,
        )
        record = await self.delivery.send_once(Outgoing.command(trigger, fields))
        result = _result(record, trigger)
        result["response_url"] = self.hooks.url(hook)
        if not record["ok"]:
            note = f'{command} failed with the error "{_failure(record)}"'
            result["note"] = note
            self.ws.add_ephemeral(room, person.id, text=note, source="slack", author="USLACKBOT")
            return result
        self._show_ack_body(hook, record["body"], result)
        return result

    def _refuse_command(self, person: User, room: Channel, command: str) -> dict[str, Any]:
        """What Slack's client says to a command no installed app declared; nothing is sent."""
        note = (
            f"{command} is not a valid command. In Slack, all messages that start with the "
            '"/" character are interpreted as commands.'
        )
        self.ws.add_ephemeral(room, person.id, text=note, source="slack", author="USLACKBOT")
        return {
            "status": None,
            "body": "",
            "elapsed_ms": 0.0,
            "trigger_id": None,
            "outcome": "unknown_command",
            "failed": True,
            "note": note,
        }

    def _show_ack_body(self, hook: Any, body: str, result: dict[str, Any]) -> None:
        """An ack with a body is the command's first reply (ephemeral unless in_channel)."""
        if not body.strip():
            return
        reply = _reply(body)
        if reply is None and not body.lstrip().startswith(("{", "[")):
            reply = {"text": body}
        if reply is None or not (reply.get("text") or reply.get("blocks")):
            return
        try:
            self.hooks.apply(hook, reply)
        except HookError as exc:
            result["note"] = f"the command's reply was refused: {exc.error}"

    # -- clicks and choices on messages --------------------------------------------------------

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: blockstate.Choice = None,
    ) -> dict[str, Any]:
        """Acts on the element with `action_id` on a message (or an ephemeral message): a
        button's click (value overrides its value) or a choice in a select, overflow menu,
        date picker, checkboxes... (value is the option's value, a user id, a date...)."""
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel)
        message = self.ws.find_message(room, message_ts)
        note = None if message is not None else self.ws.find_ephemeral(person.id, message_ts)
        if message is None and note is None:
            raise ControlError(f"no message {message_ts!r} in {room.id}", 404)
        blocks = message.blocks if message is not None else note.blocks if note else None
        found = self._element(blocks, action_id)
        thread_ts = message.thread_ts if message is not None else note.thread_ts if note else None
        chosen = self._message_choices.setdefault((person.id, room.id, message_ts), {})
        action = self._act(found, value, chosen)
        trigger = self.views.triggers.issue(person.id)
        hook = self.hooks.create(
            "action",
            room.id,
            person.id,
            message_ts=message_ts,
            is_ephemeral=message is None,
            thread_ts=thread_ts,
        )
        payload = payloads.message_actions_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            channel=room,
            container=payloads.message_container(room, message_ts, thread_ts, message is None),
            message=message_json(message, self.ws) if message is not None else None,
            state_values=blockstate.state_values(blocks, chosen),
            action=action,
            response_url=self.hooks.url(hook),
            trigger_id=trigger,
        )
        record = await self.delivery.send_once(Outgoing.action(trigger, action_id, payload))
        result = _result(record, trigger)
        result["action"] = action
        if not record["ok"]:
            result["note"] = f'the app did not handle the click ("{_failure(record)}")'
        return result

    def _element(self, blocks: list[dict[str, Any]] | None, action_id: str) -> dict[str, Any]:
        found = blockstate.find_element(blocks, action_id)
        if found is None:
            raise ControlError(f"no element with action_id {action_id!r}", 404)
        return found

    def _act(
        self, found: dict[str, Any], value: blockstate.Choice, chosen: blockstate.Chosen
    ) -> dict[str, Any]:
        """The `actions` entry for this act; a choice in a stateful element is remembered."""
        element = found["element"]
        kind = element.get("type", "button")
        try:
            if kind == "button":
                clicked = None if value is None else str(value)
                return blockstate.action_entry(found, None, clicked_value=clicked)
            action = blockstate.action_entry(found, value)
        except (blockstate.ChoiceError, TypeError, ValueError) as exc:
            raise ControlError(str(exc)) from exc
        if kind in blockstate.STATEFUL:
            chosen.setdefault(found["block_id"], {})[str(element.get("action_id"))] = value
        return action

    # -- modals and the Home tab ---------------------------------------------------------------

    def _view_for(self, person: User, view_id: str) -> OpenView:
        """A view this person has open: a modal of theirs, or their Home tab ("home")."""
        if view_id == "home":
            shown = self.views.home(person.id)
        else:
            shown = self.views.find(view_id=view_id)
        if shown is None or shown.user != person.id:
            raise ControlError(f"{person.name} has no view {view_id!r} open", 404)
        return shown

    async def act_in_view(
        self, user: str, view_id: str, action_id: str, value: blockstate.Choice = None
    ) -> dict[str, Any]:
        """A click or a choice in a modal or the Home tab. Choices in input blocks are only
        remembered (Slack sends them with the submission) unless the block dispatches them."""
        person = require_user(self.ws, user)
        shown = self._view_for(person, view_id)
        found = self._element(shown.view.get("blocks"), action_id)
        action = self._act(found, value, shown.chosen)
        self.ws.changed("modal", user=person.id)
        block = found["block"]
        quiet = block.get("type") == "input" and not (
            block.get("dispatch_action") or found["element"].get("dispatch_action_config")
        )
        if quiet:
            return {"status": None, "failed": False, "note": None, "delivered": False}
        trigger = self.views.triggers.issue(person.id)
        payload = payloads.view_actions_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            view=shown.json(),
            action=action,
            trigger_id=trigger,
        )
        record = await self.delivery.send_once(Outgoing.action(trigger, action_id, payload))
        result = _result(record, trigger)
        result["action"] = action
        result["delivered"] = True
        if not record["ok"]:
            result["note"] = f'the app did not handle the click ("{_failure(record)}")'
        return result

    async def submit_view(
        self, user: str, view_id: str, values: blockstate.Chosen | None = None
    ) -> dict[str, Any]:
        """Presses the modal's submit button with these entries (block_id → action_id →
        choice) on top of those made so far, and does what the app's ack asks."""
        person = require_user(self.ws, user)
        shown = self._view_for(person, view_id)
        if shown.view["type"] != "modal" or not shown.view.get("submit"):
            raise ControlError("this view has no submit button")
        if self.views.top(person.id) is not shown:
            raise ControlError("only the view on top of the stack can be submitted")
        for block_id, entries in (values or {}).items():
            for action_id in entries:
                found = blockstate.find_element(shown.view.get("blocks"), action_id)
                if found is None or found["block_id"] != block_id:
                    raise ControlError(f"no input {block_id}/{action_id} in the view", 404)
                self._act(found, entries[action_id], shown.chosen)
        missing = blockstate.missing_inputs(shown.view.get("blocks"), shown.chosen)
        if missing:
            shown.errors = missing
            self.ws.changed("modal", user=person.id)
            return {
                "status": None,
                "failed": True,
                "errors": missing,
                "delivered": False,
                "note": "required fields are empty",
                "closed": False,
            }
        trigger = self.views.triggers.issue(person.id)
        payload = payloads.view_submission_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            view=shown.json(),
            trigger_id=trigger,
        )
        label = shown.view.get("callback_id") or "view_submission"
        out = Outgoing.action(trigger, str(label), payload, reads_reply=True)
        record = await self.delivery.send_once(out)
        result = _result(record, trigger)
        result.update({"delivered": True, "errors": {}, "closed": False})
        if not record["ok"]:
            shown.errors = {"": SUBMIT_TROUBLE}
            self.ws.changed("modal", user=person.id)
            result["note"] = f'{SUBMIT_TROUBLE} ("{_failure(record)}")'
            return result
        self._respond_to_submission(person, shown, _reply(record["body"]) or {}, result)
        return result

    def _respond_to_submission(
        self, person: User, shown: OpenView, reply: dict[str, Any], result: dict[str, Any]
    ) -> None:
        """Slack's response_action: errors, update, push or clear; an empty ack closes."""
        action = reply.get("response_action")
        result["response_action"] = action
        try:
            if action == "errors":
                errors = reply.get("errors")
                if not isinstance(errors, dict) or not errors:
                    raise ViewError("invalid_arguments", "errors must be a non-empty object")
                shown.errors = {str(k): str(v) for k, v in errors.items()}
                result["errors"] = dict(shown.errors)
                self.ws.changed("modal", user=person.id)
            elif action == "update":
                self.views.replace(shown, check_view(reply.get("view"), "modal"))
            elif action == "push":
                self.views.push_for(person.id, check_view(reply.get("view"), "modal"))
            elif action == "clear":
                self.views.clear(person.id)
                result["closed"] = True
            elif action is None:
                self.views.pop(person.id)
                result["closed"] = True
            else:
                raise ViewError("invalid_arguments", f"unknown response_action {action!r}")
        except ViewError as exc:
            shown.errors = {"": SUBMIT_TROUBLE}
            self.ws.changed("modal", user=person.id)
            result["failed"] = True
            result["note"] = f"the app's response was refused: {exc.error} ({exc.detail})"

    async def close_view(self, user: str, view_id: str, *, clear: bool = False) -> dict[str, Any]:
        """Closes the modal on top (Cancel), or the whole stack (clear, or the view's
        clear_on_close); sends view_closed when the view asked with notify_on_close."""
        person = require_user(self.ws, user)
        shown = self._view_for(person, view_id)
        if self.views.top(person.id) is not shown:
            raise ControlError("only the view on top of the stack can be closed")
        cleared = clear or bool(shown.view.get("clear_on_close"))
        closing = self.views.clear(person.id) if cleared else [self.views.pop(person.id)]
        result: dict[str, Any] = {"closed": [v.id for v in closing if v], "delivered": False}
        if not shown.view.get("notify_on_close"):
            return result
        payload = payloads.view_closed_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            view=shown.json(),
            is_cleared=cleared,
        )
        label = shown.view.get("callback_id") or "view_closed"
        record = await self.delivery.send_once(Outgoing.action(shown.id, str(label), payload))
        result.update({"delivered": True, "status": record["status"], "failed": not record["ok"]})
        return result

    # -- external selects ----------------------------------------------------------------------

    async def suggest(
        self,
        user: str,
        action_id: str,
        query: str = "",
        *,
        view_id: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> dict[str, Any]:
        """Asks the app for an external select's options (block_suggestion); returns them."""
        person = require_user(self.ws, user)
        extra: dict[str, Any] = {}
        if view_id:
            shown = self._view_for(person, view_id)
            found = self._element(shown.view.get("blocks"), action_id)
            container: dict[str, Any] = {"type": "view", "view_id": shown.id}
            extra["view"] = shown.json()
        else:
            room = require_channel(self.ws, channel)
            message = self.ws.find_message(room, message_ts)
            if message is None:
                raise ControlError(f"no message {message_ts!r} in {room.id}", 404)
            found = self._element(message.blocks, action_id)
            container = payloads.message_container(room, message.ts, message.thread_ts, False)
            extra.update(channel=room, message=message_json(message, self.ws))
        payload = payloads.block_suggestion_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            container=container,
            found=found,
            query=query,
            **extra,
        )
        out = Outgoing.action(f"suggest-{action_id}", action_id, payload, reads_reply=True)
        record = await self.delivery.send_once(out)
        reply = _reply(record["body"]) or {}
        options = reply.get("options")
        groups = reply.get("option_groups")
        return {
            "status": record["status"],
            "failed": not record["ok"],
            "options": options if isinstance(options, list) else [],
            "option_groups": groups if isinstance(groups, list) else [],
        }
