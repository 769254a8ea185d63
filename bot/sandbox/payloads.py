"""The exact bodies Slack sends to an app: event envelopes, slash command forms, interactions.

Pure functions from the model to dicts, so the shapes can be read (and tested) in one place.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

from bot.sandbox import ids
from bot.sandbox.shapes import message_json
from bot.sandbox.state import Channel, Message, User, Workspace

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def channel_type(channel: Channel) -> str:
    """Slack's channel_type: channel, group (private) or im."""
    if channel.is_im:
        return "im"
    return "group" if channel.is_private else "channel"


def mentions(text: str) -> list[str]:
    """User ids mentioned as <@U...> in message text."""
    return _MENTION.findall(text or "")


def rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack's client attaches to what a person typed."""
    elements: list[dict[str, Any]] = []
    pos = 0
    for match in _MENTION.finditer(text):
        if match.start() > pos:
            elements.append({"type": "text", "text": text[pos : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        pos = match.end()
    if pos < len(text):
        elements.append({"type": "text", "text": text[pos:]})
    return [
        {
            "type": "rich_text",
            "block_id": ids.random_code(5).lower(),
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]


def message_event(message: Message, channel: Channel, ws: Workspace) -> dict[str, Any]:
    """A `message` event for a new message (a person's or the bot's own)."""
    event = message_json(message, ws)
    event.update(
        {
            "channel": channel.id,
            "event_ts": message.ts,
            "channel_type": channel_type(channel),
        }
    )
    for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply"):
        event.pop(key, None)
    return event


def app_mention_event(message: Message, channel: Channel, ws: Workspace) -> dict[str, Any]:
    """The `app_mention` event Slack sends beside the message event when the bot is named."""
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "channel": channel.id,
        "event_ts": message.ts,
        "team": ws.identity.team_id,
    }
    if message.client_msg_id:
        event["client_msg_id"] = message.client_msg_id
    if message.blocks is not None:
        event["blocks"] = message.blocks
    if message.is_reply:
        event["thread_ts"] = message.thread_ts
    return event


def message_changed_event(
    message: Message, previous: dict[str, Any], channel: Channel, ws: Workspace
) -> dict[str, Any]:
    now = ws.clock.next()
    current = message_json(message, ws)
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel.id,
        "channel_type": channel_type(channel),
        "message": current,
        "previous_message": previous,
        "ts": now,
        "event_ts": now,
    }


def message_deleted_event(
    previous: dict[str, Any], channel: Channel, ws: Workspace
) -> dict[str, Any]:
    now = ws.clock.next()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel.id,
        "channel_type": channel_type(channel),
        "deleted_ts": previous.get("ts"),
        "previous_message": previous,
        "ts": now,
        "event_ts": now,
    }


def assistant_thread_started_event(
    user_id: str, channel: Channel, thread_ts: str, context: dict[str, Any], ws: Workspace
) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user_id,
            "context": context,
            "channel_id": channel.id,
            "thread_ts": thread_ts,
        },
        "event_ts": ws.clock.next(),
    }


def app_home_opened_event(
    user_id: str, channel: Channel, ws: Workspace, view: dict[str, Any] | None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel.id,
        "tab": "home",
        "event_ts": ws.clock.next(),
    }
    if view is not None:
        event["view"] = view
    return event


def envelope(event: dict[str, Any], ws: Workspace, verification_token: str) -> dict[str, Any]:
    """Wraps an event in the Events API envelope with a fresh event_id."""
    ident = ws.identity
    context = {"team": ident.team_id, "channel": event.get("channel", "")}
    opaque = base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("=")
    return {
        "token": verification_token,
        "team_id": ident.team_id,
        "context_team_id": ident.team_id,
        "context_enterprise_id": None,
        "api_app_id": ident.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": ids.event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": ident.team_id,
                "user_id": ident.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{opaque}",
    }


def command_form(
    *,
    ws: Workspace,
    verification_token: str,
    user: User,
    channel: Channel,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command request."""
    ident = ws.identity
    return {
        "token": verification_token,
        "team_id": ident.team_id,
        "team_domain": ident.team_domain,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ident.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _interaction(kind: str, ws: Workspace, verification_token: str, user: User) -> dict[str, Any]:
    """What every interaction payload starts with: its type, who acted, which app and team."""
    ident = ws.identity
    return {
        "type": kind,
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": ident.team_id},
        "api_app_id": ident.app_id,
        "token": verification_token,
        "team": {"id": ident.team_id, "domain": ident.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def message_container(
    channel: Channel, message_ts: str, thread_ts: str | None, is_ephemeral: bool
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel.id,
        "is_ephemeral": is_ephemeral,
    }
    if thread_ts:
        container["thread_ts"] = thread_ts
    return container


def channel_ref(channel: Channel) -> dict[str, str]:
    return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}


def message_actions_payload(
    *,
    ws: Workspace,
    verification_token: str,
    user: User,
    channel: Channel,
    container: dict[str, Any],
    message: dict[str, Any] | None,
    state_values: dict[str, Any],
    action: dict[str, Any],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """The `payload` of a block_actions interaction on a message (a click, a choice)."""
    payload = _interaction("block_actions", ws, verification_token, user)
    payload.update(
        {
            "container": container,
            "trigger_id": trigger_id,
            "channel": channel_ref(channel),
            "state": {"values": state_values},
            "response_url": response_url,
            "actions": [action],
        }
    )
    if message is not None:
        payload["message"] = message
    return payload


def view_actions_payload(
    *,
    ws: Workspace,
    verification_token: str,
    user: User,
    view: dict[str, Any],
    action: dict[str, Any],
    trigger_id: str,
) -> dict[str, Any]:
    """The `payload` of a block_actions interaction in a modal or the Home tab."""
    payload = _interaction("block_actions", ws, verification_token, user)
    payload.update(
        {
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": trigger_id,
            "view": view,
            "actions": [action],
        }
    )
    return payload


def view_submission_payload(
    *, ws: Workspace, verification_token: str, user: User, view: dict[str, Any], trigger_id: str
) -> dict[str, Any]:
    """The `payload` of a view_submission (the person pressed the modal's submit button)."""
    payload = _interaction("view_submission", ws, verification_token, user)
    payload.update({"trigger_id": trigger_id, "view": view, "response_urls": []})
    return payload


def view_closed_payload(
    *, ws: Workspace, verification_token: str, user: User, view: dict[str, Any], is_cleared: bool
) -> dict[str, Any]:
    """The `payload` of a view_closed (sent only for views with notify_on_close)."""
    payload = _interaction("view_closed", ws, verification_token, user)
    payload.update({"view": view, "is_cleared": is_cleared})
    return payload


def block_suggestion_payload(
    *,
    ws: Workspace,
    verification_token: str,
    user: User,
    container: dict[str, Any],
    found: dict[str, Any],
    query: str,
    view: dict[str, Any] | None = None,
    channel: Channel | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `payload` asking an app for an external select's options (what was typed so far)."""
    payload = _interaction("block_suggestion", ws, verification_token, user)
    payload.update(
        {
            "container": container,
            "action_id": found["element"].get("action_id"),
            "block_id": found["block_id"],
            "value": query,
        }
    )
    if view is not None:
        payload["view"] = view
    if channel is not None:
        payload["channel"] = channel_ref(channel)
    if message is not None:
        payload["message"] = message
    return payload
