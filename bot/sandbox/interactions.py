"""Slash commands and button clicks: one request (or Socket Mode envelope) each, to be
acknowledged within the ack timeout; a command's ack may carry its first reply.

Slack does not retry these. When the app is slow or fails, Slack tells the user instead:
the result carries a `note` with that message (and a command's note is shown to the user as
an ephemeral message from Slackbot, as in Slack).
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox import ids, payloads
from bot.sandbox.delivery import Delivery
from bot.sandbox.lookup import ControlError, require_channel, require_user
from bot.sandbox.outgoing import Outgoing
from bot.sandbox.responses import HookError, ResponseUrls
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Workspace


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


class Interactions:
    """Runs slash commands and clicks buttons on behalf of users."""

    def __init__(
        self, ws: Workspace, delivery: Delivery, hooks: ResponseUrls, verification_token: str
    ) -> None:
        self.ws = ws
        self.delivery = delivery
        self.hooks = hooks
        self.verification_token = verification_token

    async def run_command(
        self, user: str, channel: str, command: str, text: str = ""
    ) -> dict[str, Any]:
        """Sends a slash command and shows the app's immediate reply, if any."""
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel)
        command = command if command.startswith("/") else f"/{command}"
        trigger = ids.trigger_id()
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

    def _show_ack_body(self, hook: Any, body: str, result: dict[str, Any]) -> None:
        """An ack with a body is the command's first reply (ephemeral unless in_channel)."""
        if not body.strip():
            return
        try:
            reply = json.loads(body)
        except ValueError:
            reply = {"text": body}
        if not isinstance(reply, dict) or not (reply.get("text") or reply.get("blocks")):
            return
        try:
            self.hooks.apply(hook, reply)
        except HookError as exc:
            result["note"] = f"the command's reply was refused: {exc.error}"

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
    ) -> dict[str, Any]:
        """Clicks the element with `action_id` on a message (or an ephemeral message)."""
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel)
        message = self.ws.find_message(room, message_ts)
        note = None if message is not None else self.ws.find_ephemeral(person.id, message_ts)
        if message is None and note is None:
            raise ControlError(f"no message {message_ts!r} in {room.id}", 404)
        blocks = message.blocks if message is not None else note.blocks if note else None
        found = payloads.find_action(blocks, action_id)
        if found is None:
            raise ControlError(f"no element with action_id {action_id!r}", 404)
        thread_ts = message.thread_ts if message is not None else note.thread_ts if note else None
        trigger = ids.trigger_id()
        hook = self.hooks.create(
            "action",
            room.id,
            person.id,
            message_ts=message_ts,
            is_ephemeral=message is None,
            thread_ts=thread_ts,
        )
        payload = payloads.block_actions_payload(
            ws=self.ws,
            verification_token=self.verification_token,
            user=person,
            channel=room,
            message=message_json(message, self.ws) if message is not None else None,
            message_ts=message_ts,
            thread_ts=thread_ts,
            is_ephemeral=message is None,
            action=payloads.action_record(found, value),
            response_url=self.hooks.url(hook),
            trigger_id=trigger,
        )
        record = await self.delivery.send_once(Outgoing.action(trigger, action_id, payload))
        result = _result(record, trigger)
        if not record["ok"]:
            result["note"] = f'the app did not handle the click ("{_failure(record)}")'
        return result
