"""Slack's message format, read back into the text a person wrote.

Slack sends message text with ``&``, ``<`` and ``>`` escaped as ``&amp;``, ``&lt;``, ``&gt;``
and with everything it links written as an angle-bracket token: ``<@U…>`` for a person,
``<#C…|name>`` (or ``<#C…>``) for a channel, ``<!here>``, ``<!channel>`` or
``<!subteam^S…|@team>`` for a group, ``<https://…|label>`` or ``<https://…>`` for a link,
``<mailto:…|…>`` for an address. The model should read what the person typed, so tokens become
readable names (@Alice, #general) and Markdown links, and the escapes are undone — only after
the tokens are found, since an unescaped ``<`` in the text would otherwise look like a token.

Written by hand: the grammar is a regular expression and three escapes, and slack-sdk parses
none of it (it only builds messages).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"<([^<>\n]*)>")
_ESCAPE = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL = {"here", "channel", "everyone"}


@dataclass(frozen=True)
class Mention:
    """A person (``kind`` "user") or channel ("channel") the text links to."""

    kind: str
    id: str


def unescape(text: str) -> str:
    """Undo Slack's three escapes in one pass (``&amp;lt;`` is the ``&lt;`` a person typed)."""
    return _ESCAPE.sub(lambda m: _UNESCAPED[m.group(1)], text)


def mentions(text: str) -> set[Mention]:
    """The people and channels ``text`` mentions, so their names can be looked up first."""
    found = set()
    for match in _TOKEN.finditer(text):
        target, _, _ = match.group(1).partition("|")
        if target[:1] == "@" and len(target) > 1:
            found.add(Mention("user", target[1:]))
        elif target[:1] == "#" and len(target) > 1:
            found.add(Mention("channel", target[1:]))
    return found


def decode(
    text: str,
    user_name: Callable[[str], str] = lambda user_id: user_id,
    channel_name: Callable[[str], str] = lambda channel_id: f"#{channel_id}",
) -> str:
    """``text`` as the person wrote it: names for mentions, Markdown for links, no escapes.

    ``user_name`` gives a person's name for a user id; ``channel_name`` the channel as it
    should read ("#general") when the token carries no name of its own.
    """
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(unescape(text[last : match.start()]))
        parts.append(_token(match.group(1), user_name, channel_name))
        last = match.end()
    parts.append(unescape(text[last:]))
    return "".join(parts)


def _token(body: str, user_name: Callable[[str], str], channel_name: Callable[[str], str]) -> str:
    target, _, label = body.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return f"@{user_name(target[1:])}" if len(target) > 1 else "@"
    if target.startswith("#"):
        return f"#{label}" if label else channel_name(target[1:])
    if target.startswith("!"):
        return _special(target[1:], label)
    return _link(unescape(target), label)


def _special(command: str, label: str) -> str:
    """``<!here>``, ``<!subteam^S…|@team>``, ``<!date^…|fallback>``: the label, or @command."""
    if label:
        return label
    name = command.split("^", 1)[0]
    return f"@{name}" if name in _SPECIAL else f"@{command.split('^')[-1]}"


def _link(url: str, label: str) -> str:
    if not label or label == url:
        return url
    if url.startswith("mailto:") and label == url.removeprefix("mailto:"):
        return label
    if _without_scheme(url) == label:
        return label  # Slack linked what the person typed ("example.com"): keep it as typed
    return f"[{label}]({url})"


def _without_scheme(url: str) -> str:
    return re.sub(r"^[a-z][a-z0-9+.-]*://", "", url, flags=re.IGNORECASE).rstrip("/")


def without_leading_mention(text: str, user_id: str) -> str:
    """``text`` without a mention of ``user_id`` at its start (how people address Teammate:
    "@Teammate, what is…")."""
    return re.sub(rf"^\s*<@{re.escape(user_id)}(?:\|[^>]*)?>[\s,:]*", "", text)
