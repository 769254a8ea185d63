"""One thing Slack sends to an app (an event, a slash command, a click), in both of its forms.

Slack delivers the same content over HTTP (a JSON or form body, signed) or over a Socket Mode
connection (a JSON envelope whose `payload` is that content as an object). Building both from
one value keeps the two transports saying exactly the same thing, retries included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

# Delivery kind → Socket Mode envelope type.
SOCKET_TYPES = {"event": "events_api", "command": "slash_commands", "action": "interactive"}


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass(frozen=True)
class Outgoing:
    """What is sent: `payload` for Socket Mode, `body` (bytes, fixed once) for HTTP."""

    kind: str
    id: str
    label: str
    payload: dict[str, Any]
    body: bytes
    content_type: str
    reads_reply: bool = False

    @classmethod
    def event(cls, envelope: dict[str, Any], body: bytes | None = None) -> Outgoing:
        """An Events API envelope; `body` keeps a retry byte-identical to the first send."""
        label = str(envelope.get("event", {}).get("type", ""))
        raw = body if body is not None else json.dumps(envelope).encode()
        return cls("event", str(envelope["event_id"]), label, envelope, raw, JSON_TYPE)

    @classmethod
    def command(cls, trigger_id: str, fields: dict[str, str]) -> Outgoing:
        """A slash command: form fields over HTTP, the same fields as an object over a socket."""
        body = form_body(fields)
        return cls("command", trigger_id, fields["command"], fields, body, FORM_TYPE, True)

    @classmethod
    def action(
        cls, id: str, label: str, payload: dict[str, Any], *, reads_reply: bool = False
    ) -> Outgoing:
        """An interaction: `payload=<json>` in a form over HTTP, the object over a socket.

        reads_reply: Slack acts on the ack's body (a view_submission's response_action, a
        block_suggestion's options); for clicks it ignores it.
        """
        body = interaction_body(payload)
        return cls("action", id, label, payload, body, FORM_TYPE, reads_reply)

    @property
    def socket_type(self) -> str:
        return SOCKET_TYPES[self.kind]

    @property
    def accepts_response_payload(self) -> bool:
        """Slack reads an ack's payload for commands, view submissions and option requests."""
        return self.reads_reply

    @property
    def retried(self) -> bool:
        """Only events are retried, so only their envelopes carry retry_attempt/retry_reason."""
        return self.kind == "event"
