"""Finding the user and channel a control request names, with errors a person can act on."""

from __future__ import annotations

from bot.sandbox.state import Channel, Message, User, Workspace


class ControlError(Exception):
    """A control request that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def require_user(ws: Workspace, ref: str | None) -> User:
    user = ws.find_user(ref)
    if user is None:
        raise ControlError(f"no user {ref!r}", 404)
    return user


def require_channel(ws: Workspace, ref: str | None) -> Channel:
    channel = ws.find_channel(ref)
    if channel is None:
        raise ControlError(f"no channel {ref!r}", 404)
    return channel


def require_message(ws: Workspace, channel: Channel, ts: str | None) -> Message:
    message = ws.find_message(channel, ts)
    if message is None:
        raise ControlError(f"no message {ts!r} in {channel.id}", 404)
    return message
