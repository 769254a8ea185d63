"""The Slack app manifest: loaded from manifest.yml, checked, and turned into its HTTP variant.

The model below encodes the rules of Slack's published manifest schema for the parts Teammate
uses (required fields, lengths, patterns, no unknown keys), so a manifest that Slack would
refuse fails here first, in a test, rather than in the app configuration page.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bot.resources import MANIFEST_PATH

HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://", max_length=3500)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisplayInformation(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=35)]
    description: Annotated[str, StringConstraints(max_length=140)] | None = None
    background_color: (
        Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")] | None
    ) = None  # noqa: E501
    long_description: Annotated[str, StringConstraints(min_length=175, max_length=4000)] | None = (
        None  # noqa: E501
    )


class AppHome(_Strict):
    home_tab_enabled: bool | None = None
    messages_tab_enabled: bool | None = None
    messages_tab_read_only_enabled: bool | None = None


class BotUser(_Strict):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    always_online: bool | None = None


class SuggestedPrompt(_Strict):
    title: str
    message: str


class AssistantView(_Strict):
    assistant_description: str
    suggested_prompts: list[SuggestedPrompt] | None = None


class SlashCommand(_Strict):
    command: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^/")]
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    usage_hint: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    url: HttpUrl | None = None
    should_escape: bool | None = None


class Features(_Strict):
    app_home: AppHome | None = None
    bot_user: BotUser | None = None
    assistant_view: AssistantView | None = None
    slash_commands: Annotated[list[SlashCommand], Field(min_length=1, max_length=50)] | None = None


class Scopes(_Strict):
    bot: Annotated[list[str], Field(max_length=255)] | None = None
    user: list[str] | None = None


class OAuthConfig(_Strict):
    scopes: Scopes | None = None
    redirect_urls: list[HttpUrl] | None = None


class EventSubscriptions(_Strict):
    request_url: HttpUrl | None = None
    bot_events: (
        Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=100)]
        | None
    ) = None  # noqa: E501
    user_events: list[str] | None = None


class Interactivity(_Strict):
    is_enabled: bool
    request_url: HttpUrl | None = None
    message_menu_options_url: HttpUrl | None = None


class AppSettings(_Strict):
    event_subscriptions: EventSubscriptions | None = None
    interactivity: Interactivity | None = None
    org_deploy_enabled: bool | None = None
    socket_mode_enabled: bool | None = None
    token_rotation_enabled: bool | None = None


class Manifest(_Strict):
    display_information: DisplayInformation
    features: Features | None = None
    oauth_config: OAuthConfig | None = None
    settings: AppSettings | None = None


def load(path: Path = MANIFEST_PATH) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check(manifest: dict) -> Manifest:
    """Raise pydantic's ValidationError when Slack would refuse this manifest."""
    return Manifest.model_validate(manifest)


def http_variant(manifest: dict, base_url: str) -> dict:
    """The manifest for HTTP mode: Socket Mode off, every request URL pointing at base_url."""
    url = base_url.rstrip("/") + "/slack/events"
    variant = copy.deepcopy(manifest)
    settings = variant.setdefault("settings", {})
    settings["socket_mode_enabled"] = False
    settings.setdefault("event_subscriptions", {})["request_url"] = url
    settings.setdefault("interactivity", {"is_enabled": True})["request_url"] = url
    for command in variant.get("features", {}).get("slash_commands", []):
        command["url"] = url
    return variant
