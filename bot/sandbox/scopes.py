"""The bot scopes each Web API method needs, so an app whose manifest lacks one is refused
with Slack's `missing_scope` (and learns it here, not after installing the app).

Conversation methods need the scope of the conversation's kind: conversations.history in a
public channel needs channels:history, in a DM im:history. A method missing from the table
needs no scope (auth.test, views.*, chat.getPermalink, apps.connections.open ...). Only
checked when the sandbox was given the app's manifest.
"""

from __future__ import annotations

KIND_PREFIX = {"channel": "channels", "group": "groups", "im": "im", "mpim": "mpim"}
_READ_ANY = ("channels:read", "groups:read", "im:read", "mpim:read")
_CHAT = ("chat:write",)
_ASSISTANT = ("assistant:write",)

# method → scopes, any one of which will do; "{kind}" is the conversation's prefix.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": _CHAT,
    "chat.update": _CHAT,
    "chat.delete": _CHAT,
    "chat.postEphemeral": _CHAT,
    "chat.startStream": _CHAT,
    "chat.appendStream": _CHAT,
    "chat.stopStream": _CHAT,
    "conversations.history": ("{kind}:history",),
    "conversations.replies": ("{kind}:history",),
    "conversations.info": ("{kind}:read",),
    "conversations.members": ("{kind}:read",),
    "conversations.list": _READ_ANY,
    "conversations.open": ("im:write", "mpim:write"),
    "conversations.join": ("channels:join",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "bots.info": ("users:read",),
    "team.info": ("team:read",),
    "reactions.add": ("reactions:write",),
    "reactions.remove": ("reactions:write",),
    "assistant.threads.setStatus": _ASSISTANT,
    "assistant.threads.setSuggestedPrompts": _ASSISTANT,
    "assistant.threads.setTitle": _ASSISTANT,
}


def needed(method: str, kind: str | None) -> tuple[str, ...]:
    """The scopes that would allow this call (any one), for a conversation of this kind."""
    prefix = KIND_PREFIX.get(kind or "channel", "channels")
    return tuple(s.replace("{kind}", prefix) for s in METHOD_SCOPES.get(method, ()))


def missing(method: str, kind: str | None, granted: frozenset[str]) -> tuple[str, ...]:
    """The scopes needed when none of them is granted; () when the call is allowed."""
    options = needed(method, kind)
    if not options or granted & set(options):
        return ()
    return options
