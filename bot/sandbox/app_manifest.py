"""The app's manifest, as far as Slack's behaviour towards the app depends on it.

Slack delivers only the events an app subscribed to, accepts only the slash commands the app
declared, and shows the bot under the manifest's name. The sandbox reads the same file a
person pastes into api.slack.com (YAML or JSON, or an already parsed dict) so it behaves as
Slack would for that app, Teammate or another.

Without a manifest the sandbox is permissive: every event is delivered and any command is
accepted (handy for a quick receiver in a test; an app's own tests should give its manifest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Message events are subscribed per kind of conversation.
MESSAGE_SUBSCRIPTIONS = {
    "channel": "message.channels",
    "group": "message.groups",
    "im": "message.im",
    "mpim": "message.mpim",
}


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SlashCommand:
    command: str
    description: str = ""
    usage_hint: str = ""

    def view(self) -> dict[str, str]:
        return {
            "command": self.command,
            "description": self.description,
            "usage_hint": self.usage_hint,
        }


@dataclass(frozen=True)
class AppManifest:
    """What the sandbox needs from a manifest; None for `commands`, `bot_events` or `scopes`
    means "anything" (the permissive app, when no manifest was given)."""

    name: str = "Teammate"
    bot_display_name: str = "Teammate"
    commands: tuple[SlashCommand, ...] | None = None
    bot_events: frozenset[str] | None = None
    scopes: tuple[str, ...] | None = None
    home_tab: bool = True  # the permissive app has one
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def bot_name(self) -> str:
        """The bot user's handle, as Slack derives it from the display name ("Teammate" →
        "teammate")."""
        return re.sub(r"[^a-z0-9._-]+", "_", self.bot_display_name.lower()).strip("_") or "bot"

    def subscribes(self, subscription: str) -> bool:
        return self.bot_events is None or subscription in self.bot_events

    def wants_event(self, event: dict[str, Any], channel_type: str | None) -> bool:
        """Whether Slack would deliver this event to the app."""
        kind = str(event.get("type", ""))
        if kind == "message":
            wanted = MESSAGE_SUBSCRIPTIONS.get(channel_type or "channel", "message.channels")
            return self.subscribes(wanted)
        return self.subscribes(kind)

    def command(self, name: str) -> SlashCommand | None:
        """The declared command; any name is accepted (undeclared) when none are listed."""
        if self.commands is None:
            return SlashCommand(name)
        return next((c for c in self.commands if c.command == name), None)

    def command_views(self) -> list[dict[str, str]]:
        return [c.view() for c in self.commands or ()]

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bot_display_name": self.bot_display_name,
            "bot_name": self.bot_name,
            "commands": self.command_views() if self.commands is not None else None,
            "bot_events": sorted(self.bot_events) if self.bot_events is not None else None,
            "scopes": list(self.scopes) if self.scopes is not None else None,
            "home_tab": self.home_tab,
            "source": self.source,
        }


def _section(data: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _commands(entries: Any) -> tuple[SlashCommand, ...]:
    found = []
    for entry in entries or ():
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("command") or "").strip()
        if not name:
            continue
        found.append(
            SlashCommand(
                command=name if name.startswith("/") else f"/{name}",
                description=str(entry.get("description") or ""),
                usage_hint=str(entry.get("usage_hint") or ""),
            )
        )
    return tuple(found)


def from_dict(data: dict[str, Any], source: str = "") -> AppManifest:
    """An AppManifest from a parsed manifest (Slack's layout: display_information, features,
    oauth_config, settings)."""
    if not isinstance(data, dict):
        raise ManifestError(f"{source or 'the manifest'}: not a mapping")
    name = str(_section(data, "display_information").get("name") or "").strip()
    if not name:
        raise ManifestError(f"{source or 'the manifest'}: display_information.name is missing")
    bot_user = _section(data, "features", "bot_user")
    events = _section(data, "settings", "event_subscriptions").get("bot_events") or []
    scopes = _section(data, "oauth_config", "scopes").get("bot") or []
    home = _section(data, "features", "app_home")
    return AppManifest(
        name=name,
        bot_display_name=str(bot_user.get("display_name") or name),
        commands=_commands(_section(data, "features").get("slash_commands")),
        bot_events=frozenset(str(e) for e in events),
        scopes=tuple(str(s) for s in scopes),
        home_tab=bool(home.get("home_tab_enabled", False)),
        source=source,
        raw=data,
    )


def load(source: str | Path | dict[str, Any] | AppManifest | None) -> AppManifest:
    """Reads a manifest file (YAML or JSON), a parsed dict, or None for the permissive app."""
    if source is None:
        return AppManifest()
    if isinstance(source, AppManifest):
        return source
    if isinstance(source, dict):
        return from_dict(source)
    path = Path(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: not YAML or JSON ({exc})") from exc
    return from_dict(data, str(path))
