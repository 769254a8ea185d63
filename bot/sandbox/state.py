"""The workspace model: team, users, channels, messages, ephemeral notes, assistant threads.

Everything the emulated Slack knows lives here as plain dataclasses, so the Web API, the
control API and event delivery all read and change one model. Each change is reported to an
optional listener, which the server turns into a pub-sub feed for waiting and for a live UI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.ids import TsClock

Listener = Callable[[str, dict[str, Any]], None]


@dataclass
class Identity:
    """Who the workspace and the bot are; fixed ids keep tests readable."""

    team_id: str = "T0SANDBOX"
    team_name: str = "Sandbox"
    team_domain: str = "sandbox"
    bot_user_id: str = "U0TEAMMATE"
    bot_id: str = "B0TEAMMATE"
    app_id: str = "A0TEAMMATE"
    bot_name: str = "teammate"
    bot_real_name: str = "Teammate"


@dataclass
class User:
    """A person (or the bot) in the workspace."""

    id: str
    name: str
    real_name: str
    display_name: str = ""
    is_bot: bool = False
    bot_id: str | None = None
    tz: str = "UTC"
    tz_offset: int = 0
    email: str | None = None
    deleted: bool = False
    title: str = ""
    is_admin: bool = False
    is_owner: bool = False


@dataclass
class Message:
    """One message in a channel; thread replies carry the parent's ts in thread_ts.

    ``markdown``: the text is Markdown (a streamed answer), not Slack's mrkdwn.
    """

    ts: str
    channel: str
    text: str = ""
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    subtype: str | None = None
    edited: dict[str, str] | None = None
    streaming: bool = False
    markdown: bool = False
    stream_touched: float = 0.0
    chunks: list[dict[str, Any]] = field(default_factory=list)
    task_display_mode: str = "timeline"
    reactions: dict[str, list[str]] = field(default_factory=dict)
    truncated: bool = False
    client_msg_id: str | None = None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class Ephemeral:
    """A message only one user sees; Slack never stores it in history."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    source: str = "api"
    author: str | None = None


@dataclass
class Channel:
    """A public or private channel, or a DM between one user and the bot. ``is_ext_shared``:
    shared with another organisation (Slack Connect)."""

    id: str
    name: str
    is_im: bool = False
    is_private: bool = False
    is_ext_shared: bool = False
    topic: str = ""
    purpose: str = ""
    members: set[str] = field(default_factory=set)
    im_user: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))
    messages: dict[str, Message] = field(default_factory=dict)
    replies: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class AssistantThread:
    """What the bot set on an assistant (or any) thread: status, prompts, title."""

    channel: str
    thread_ts: str
    user_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    loading_messages: list[str] = field(default_factory=list)
    status_history: list[dict[str, Any]] = field(default_factory=list)
    suggested_prompts: dict[str, Any] | None = None
    title: str | None = None


class Workspace:
    """The whole emulated workspace and the operations that change it."""

    def __init__(self, identity: Identity | None = None, listener: Listener | None = None) -> None:
        self.identity = identity or Identity()
        self.listener = listener
        self.observers: list[Listener] = []
        self.clock = TsClock()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemeral: dict[str, list[Ephemeral]] = {}
        self.assistant: dict[tuple[str, str], AssistantThread] = {}
        self.home: dict[str, dict[str, Any]] = {}

    # -- change reporting --------------------------------------------------------------------

    def changed(self, kind: str, **data: Any) -> None:
        """Tells the listener (if any) and every observer that something changed.

        Observers hear only workspace changes, never diagnostics such as the call log, so one
        that saves the workspace is not woken by traffic that changes nothing.
        """
        if self.listener is not None:
            self.listener(kind, data)
        for observer in self.observers:
            observer(kind, data)

    def clear(self) -> None:
        """Forgets everything; the caller re-seeds."""
        self.users.clear()
        self.channels.clear()
        self.ephemeral.clear()
        self.assistant.clear()
        self.home.clear()
        self.changed("reset")

    # -- users and channels ------------------------------------------------------------------

    def add_user(self, user: User, *, with_dm: bool = True) -> User:
        """Adds a person; by default also their DM with the bot, as Slack has for every user."""
        self.users[user.id] = user
        if with_dm and not user.is_bot:
            self.dm_for(user.id)
        self.changed("user", user=user.id)
        return user

    def add_channel(self, channel: Channel) -> Channel:
        self.channels[channel.id] = channel
        self.changed("channel", channel=channel.id)
        return channel

    def set_member(self, channel: Channel, user_id: str, member: bool) -> None:
        if member:
            channel.members.add(user_id)
        else:
            channel.members.discard(user_id)
        self.changed("members", channel=channel.id, user=user_id, member=member)

    def dm_for(self, user_id: str) -> Channel:
        """The DM channel between a user and the bot, created on first use."""
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        suffix = user_id[1:] if user_id.startswith("U") else user_id
        channel = Channel(
            id=f"D{suffix}",
            name=user_id,
            is_im=True,
            im_user=user_id,
            members={user_id, self.identity.bot_user_id},
        )
        return self.add_channel(channel)

    def find_user(self, ref: str | None) -> User | None:
        """A user by id, name ("alice" or "@alice") or display name."""
        if not ref:
            return None
        if ref in self.users:
            return self.users[ref]
        name = ref.lstrip("@").lower()
        for user in self.users.values():
            if name in (user.name.lower(), user.display_name.lower()):
                return user
        return None

    def find_channel(self, ref: str | None) -> Channel | None:
        """A channel by id or name ("general" or "#general"); a user id gives their DM."""
        if not ref:
            return None
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users and not self.users[ref].is_bot:
            return self.dm_for(ref)
        name = ref.lstrip("#").lower()
        for channel in self.channels.values():
            if not channel.is_im and channel.name.lower() == name:
                return channel
        return None

    def bot_is_member(self, channel: Channel) -> bool:
        return self.identity.bot_user_id in channel.members

    # -- messages ----------------------------------------------------------------------------

    def find_message(self, channel: Channel, ts: str | None) -> Message | None:
        return channel.messages.get(ts) if ts else None

    def post(
        self,
        channel: Channel,
        *,
        text: str = "",
        user: str | None = None,
        bot_id: str | None = None,
        app_id: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        subtype: str | None = None,
        streaming: bool = False,
        client_msg_id: str | None = None,
    ) -> Message:
        """Stores a new message; a reply's thread_ts is moved to the thread's parent."""
        parent = self.find_message(channel, thread_ts) if thread_ts else None
        if parent is not None and parent.is_reply:
            parent = channel.messages.get(parent.thread_ts or "")
        ts = self.clock.next()
        message = Message(
            ts=ts,
            channel=channel.id,
            text=text,
            user=user,
            bot_id=bot_id,
            app_id=app_id,
            blocks=blocks,
            thread_ts=parent.ts if parent is not None else None,
            metadata=metadata,
            subtype=subtype,
            streaming=streaming,
            stream_touched=time.monotonic(),
            client_msg_id=client_msg_id,
        )
        channel.messages[ts] = message
        if parent is not None:
            parent.thread_ts = parent.ts
            channel.replies.setdefault(parent.ts, []).append(ts)
        self.changed("message", channel=channel.id, ts=ts, thread_ts=message.thread_ts)
        return message

    def edit(
        self,
        message: Message,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        editor: str | None = None,
        mark_edited: bool = True,
    ) -> None:
        """Changes a message's text and/or blocks in place."""
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if mark_edited:
            message.edited = {"user": editor or message.user or "", "ts": self.clock.next()}
        self.touched(message)

    def touched(self, message: Message) -> None:
        """Reports that a message changed (used by stream appends too)."""
        self.changed(
            "message_changed", channel=message.channel, ts=message.ts, thread_ts=message.thread_ts
        )

    def delete(self, message: Message) -> None:
        """Removes a message; a parent with replies stays as a tombstone, as in Slack."""
        channel = self.channels[message.channel]
        if channel.replies.get(message.ts):
            message.subtype = "tombstone"
            message.text = "This message was deleted."
            message.blocks = None
            message.user = "USLACKBOT"
            message.bot_id = None
        else:
            channel.messages.pop(message.ts, None)
            if message.is_reply and message.thread_ts:
                siblings = channel.replies.get(message.thread_ts, [])
                if message.ts in siblings:
                    siblings.remove(message.ts)
        self.changed(
            "message_deleted", channel=channel.id, ts=message.ts, thread_ts=message.thread_ts
        )

    def replies_of(self, channel: Channel, parent_ts: str) -> list[Message]:
        return [channel.messages[ts] for ts in channel.replies.get(parent_ts, [])]

    def thread(self, channel: Channel, ts: str) -> list[Message]:
        """The parent and its replies, oldest first; a reply's ts finds its whole thread."""
        message = channel.messages.get(ts)
        if message is None:
            return []
        if message.is_reply and message.thread_ts:
            parent = channel.messages.get(message.thread_ts)
            if parent is None:
                return [message]
            message = parent
        return [message, *self.replies_of(channel, message.ts)]

    def top_level(self, channel: Channel) -> list[Message]:
        """Messages shown in the channel itself (not thread replies), oldest first."""
        return [m for m in channel.messages.values() if not m.is_reply]

    # -- ephemeral, assistant threads, App Home ----------------------------------------------

    def add_ephemeral(
        self,
        channel: Channel,
        user: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: str = "api",
        author: str | None = None,
    ) -> Ephemeral:
        note = Ephemeral(
            ts=self.clock.next(),
            channel=channel.id,
            user=user,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            source=source,
            author=author,
        )
        self.ephemeral.setdefault(user, []).append(note)
        self.changed("ephemeral", channel=channel.id, user=user, ts=note.ts)
        return note

    def find_ephemeral(self, user: str, ts: str) -> Ephemeral | None:
        for note in self.ephemeral.get(user, []):
            if note.ts == ts:
                return note
        return None

    def assistant_thread(self, channel: str, thread_ts: str) -> AssistantThread:
        """The assistant state of a thread, created on first use."""
        key = (channel, thread_ts)
        if key not in self.assistant:
            self.assistant[key] = AssistantThread(channel=channel, thread_ts=thread_ts)
        return self.assistant[key]

    def set_home(self, user: str, view: dict[str, Any]) -> None:
        self.home[user] = view
        self.changed("home", user=user)
