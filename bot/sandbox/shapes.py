"""Slack-shaped JSON for users, conversations and messages, plus the control API's views.

Kept apart from the model so the model stays plain data and every wire shape is in one place.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.state import AssistantThread, Channel, Ephemeral, Message, User, Workspace


def user_json(user: User, ws: Workspace) -> dict[str, Any]:
    """A users.info / users.list user object."""
    profile: dict[str, Any] = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "title": user.title,
        "team": ws.identity.team_id,
        "image_48": "",
        "image_72": "",
    }
    if user.email:
        profile["email"] = user.email
    if user.bot_id:
        profile["bot_id"] = user.bot_id
        profile["api_app_id"] = ws.identity.app_id
    return {
        "id": user.id,
        "team_id": ws.identity.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": user.tz_offset,
        "is_admin": user.is_admin or user.is_owner,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "profile": profile,
    }


def channel_json(channel: Channel, ws: Workspace) -> dict[str, Any]:
    """A conversations.info / conversations.list conversation object."""
    data: dict[str, Any] = {
        "id": channel.id,
        "created": channel.created,
        "is_archived": False,
        "is_im": channel.is_im,
        "is_org_shared": False,
        "context_team_id": ws.identity.team_id,
    }
    if channel.is_im:
        data.update({"user": channel.im_user, "is_user_deleted": False, "priority": 0})
        return data
    data.update(
        {
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_private": channel.is_private,
            "is_mpim": False,
            "is_general": channel.name == "general",
            "is_shared": channel.is_ext_shared,
            "is_ext_shared": channel.is_ext_shared,
            "is_member": ws.bot_is_member(channel),
            "topic": {"value": channel.topic, "creator": "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
            "num_members": len(channel.members),
        }
    )
    return data


def bot_profile(ws: Workspace) -> dict[str, Any]:
    ident = ws.identity
    return {
        "id": ident.bot_id,
        "app_id": ident.app_id,
        "user_id": ident.bot_user_id,
        "name": ident.bot_real_name,
        "deleted": False,
        "team_id": ident.team_id,
        "icons": {},
    }


def message_json(
    message: Message, ws: Workspace, *, include_metadata: bool = True
) -> dict[str, Any]:
    """A message as the Web API returns it (history, replies, postMessage)."""
    data: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
    if message.subtype:
        data["subtype"] = message.subtype
    if message.user:
        data["user"] = message.user
    if message.bot_id:
        data["bot_id"] = message.bot_id
        data["app_id"] = message.app_id or ws.identity.app_id
        data["bot_profile"] = bot_profile(ws)
    data["team"] = ws.identity.team_id
    if message.blocks is not None:
        data["blocks"] = message.blocks
    elif message.bot_id:
        data["blocks"] = []
    if message.edited:
        data["edited"] = dict(message.edited)
    if message.thread_ts:
        data["thread_ts"] = message.thread_ts
        channel = ws.channels.get(message.channel)
        if message.is_reply and channel is not None:
            parent = channel.messages.get(message.thread_ts)
            if parent is not None and parent.user:
                data["parent_user_id"] = parent.user
        elif channel is not None:
            data.update(_reply_summary(message, channel, ws))
    if message.reactions:
        data["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in message.reactions.items()
        ]
    if include_metadata and message.metadata is not None:
        data["metadata"] = message.metadata
    if message.client_msg_id:
        data["client_msg_id"] = message.client_msg_id
    return data


def _reply_summary(parent: Message, channel: Channel, ws: Workspace) -> dict[str, Any]:
    replies = ws.replies_of(channel, parent.ts)
    users: list[str] = []
    for reply in replies:
        if reply.user and reply.user not in users:
            users.append(reply.user)
    summary: dict[str, Any] = {
        "reply_count": len(replies),
        "reply_users": users,
        "reply_users_count": len(users),
    }
    if replies:
        summary["latest_reply"] = replies[-1].ts
    return summary


def message_view(message: Message, ws: Workspace) -> dict[str, Any]:
    """A message for the control API: the wire shape plus what only the sandbox knows."""
    data = message_json(message, ws)
    data["channel"] = message.channel
    data["streaming"] = message.streaming
    data["truncated"] = message.truncated
    if message.chunks:
        data["chunks"] = list(message.chunks)
        data["task_display_mode"] = message.task_display_mode
    return data


def ephemeral_view(note: Ephemeral) -> dict[str, Any]:
    return {
        "ts": note.ts,
        "channel": note.channel,
        "user": note.user,
        "text": note.text,
        "blocks": note.blocks,
        "thread_ts": note.thread_ts,
        "source": note.source,
        "author": note.author,
    }


def assistant_view(thread: AssistantThread) -> dict[str, Any]:
    return {
        "channel": thread.channel,
        "thread_ts": thread.thread_ts,
        "user_id": thread.user_id,
        "context": thread.context,
        "status": thread.status,
        "loading_messages": list(thread.loading_messages),
        "status_history": list(thread.status_history),
        "suggested_prompts": thread.suggested_prompts,
        "title": thread.title,
    }
