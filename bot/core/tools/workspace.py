"""Reading the workspace: the tools ``read_thread``, ``read_channel`` and ``get_user``.

The core knows nothing of Slack, so what it reads comes through a :class:`WorkspaceReader`
(bot/slack/workspace.py implements it over the Web API). The reader, not the tool, decides what
the asker may see: it raises :class:`ReadRefused` for a channel the asker or Teammate is not a
member of, and the tool hands the model that sentence instead of any message (the step shows it
too). The tools are read-only, so they run without asking.

Usage::

    for tool in workspace_tools(SlackWorkspace(client, threads, directory)):
        registry.add(tool)
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic_ai import RunContext
from pydantic_ai.exceptions import ToolFailed

from bot.core.conversation import Scope
from bot.core.deps import AnswerDeps
from bot.core.events import Source
from bot.core.tools.registry import ToolDef
from bot.core.tools.result import ToolResult

CHANNEL_LIMIT_DEFAULT = 20
CHANNEL_LIMIT_MAX = 100
_T = TypeVar("_T")


class ReadRefused(Exception):
    """The reader will not read this for the asker; ``str()`` is told to the model as it is."""


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """One message as the model reads it: who wrote it, when (Slack's ts), its text."""

    speaker: str
    text: str
    ts: str = ""
    replies: int = 0


@dataclass(frozen=True, slots=True)
class Messages:
    """Messages of one place, oldest first. ``place`` reads like "#general"; ``link`` opens
    the thread or the channel in Slack, where Slack gives one."""

    place: str
    messages: tuple[PostedMessage, ...]
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """What the workspace says of a person."""

    id: str
    name: str
    real_name: str = ""
    title: str = ""
    time_zone: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False


class WorkspaceReader(Protocol):
    """Reads what the asker of ``scope`` may see, and nothing else."""

    async def thread(self, scope: Scope) -> Messages:
        """Every message of the thread the answer is in."""
        ...

    async def channel(self, scope: Scope, channel_id: str | None, limit: int) -> Messages:
        """The latest ``limit`` top-level messages of ``channel_id`` (None: the answer's own
        channel); :class:`ReadRefused` unless both the asker and Teammate are members."""
        ...

    async def profile(self, scope: Scope, user_id: str) -> Profile:
        """A person's profile; :class:`ReadRefused` when there is no such person."""
        ...


def workspace_tools(reader: WorkspaceReader) -> list[ToolDef]:
    """The three reading tools, each a read-risk tool over ``reader``."""

    async def read_thread(ctx: RunContext[AnswerDeps]) -> ToolResult:
        """Read every message of the current thread, oldest first, with who wrote each and
        when. Use it when the thread matters and you may not have all of it."""
        found = await _refusing(reader.thread(ctx.deps.scope))
        link = found.link
        source = Source(f"Thread in {found.place}", link, cited=False) if link else None
        return _listing(f"The thread in {found.place}", found, source)

    async def read_channel(
        ctx: RunContext[AnswerDeps], channel: str | None = None, limit: int = CHANNEL_LIMIT_DEFAULT
    ) -> ToolResult:
        """Read the latest messages of a channel, oldest first (threads show their reply count).

        Args:
            channel: A channel id such as C0123ABCD; leave it out for the current channel. Only
                channels that both the person asking and Teammate are members of can be read.
            limit: How many of the latest messages to read (default 20, at most 100).
        """
        count = max(1, min(int(limit), CHANNEL_LIMIT_MAX))
        wanted = channel.strip() if channel and channel.strip() else None
        found = await _refusing(reader.channel(ctx.deps.scope, wanted, count))
        source = Source(found.place, found.link) if found.link else None
        return _listing(f"The latest messages of {found.place}", found, source)

    async def get_user(ctx: RunContext[AnswerDeps], user: str) -> ToolResult:
        """Look up a person's profile: their name, title, time zone, and whether they are a
        workspace admin or owner.

        Args:
            user: Their user id, such as U0123ABCD.
        """
        person = await _refusing(reader.profile(ctx.deps.scope, user.strip()))
        return ToolResult(_profile_text(person), summary=_profile_line(person))

    return [
        ToolDef(read_thread, risk="read", title=lambda args: "Reading the thread"),
        ToolDef(read_channel, risk="read", title=_channel_title),
        ToolDef(get_user, risk="read", title=lambda args: "Looking up a profile"),
    ]


async def _refusing(read: Awaitable[_T]) -> _T:
    """The reader's answer; a refusal becomes the tool's failure text (what the model reads)."""
    try:
        return await read
    except ReadRefused as refused:
        raise ToolFailed(str(refused)) from None


def _channel_title(args: dict[str, object]) -> str:
    return "Reading another channel" if args.get("channel") else "Reading the channel"


def _listing(heading: str, found: Messages, source: Source | None) -> ToolResult:
    count = len(found.messages)
    lines = [f"{heading} ({_count(count)}, oldest first):"]
    lines += [_message_line(m) for m in found.messages]
    if not found.messages:
        lines.append("(no messages)")
    sources: Sequence[Source] = (source,) if source else ()
    where = f" in {found.place}" if heading.startswith("The latest") else ""
    return ToolResult("\n".join(lines), summary=_count(count) + where, sources=tuple(sources))


def _message_line(message: PostedMessage) -> str:
    when = _when(message.ts)
    head = f"[{when}] " if when else ""
    replies = f" ({message.replies} {'reply' if message.replies == 1 else 'replies'})"
    return f"{head}{message.speaker}: {message.text}" + (replies if message.replies else "")


def _when(ts: str) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(float(ts), datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _count(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


def _profile_text(person: Profile) -> str:
    role = "workspace owner" if person.is_owner else "workspace admin" if person.is_admin else ""
    fields = [
        ("user id", person.id),
        ("name", person.name),
        ("full name", person.real_name if person.real_name != person.name else ""),
        ("title", person.title),
        ("time zone", person.time_zone),
        ("role", role or "member"),
        ("a bot", "yes" if person.is_bot else ""),
        ("deactivated", "yes" if person.deleted else ""),
    ]
    return "\n".join(f"{label}: {value}" for label, value in fields if value)


def _profile_line(person: Profile) -> str:
    name = person.real_name or person.name
    return f"{name} ({person.title})" if person.title else name
