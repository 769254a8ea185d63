import pytest
from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp

import handlers
from bot import manifest
from bot.slack.exactly_once import Listeners
from bot.slack.work import WorkTracker


def test_manifest_follows_slack_rules() -> None:
    data = manifest.load()
    checked = manifest.check(data)
    assert checked.settings.socket_mode_enabled is True
    commands = {c.command for c in checked.features.slash_commands}
    assert {"/ask", "/teammate"} <= commands
    events = set(checked.settings.event_subscriptions.bot_events)
    assert {"app_mention", "message.im", "assistant_thread_started"} <= events


def test_http_variant_fills_every_request_url() -> None:
    variant = manifest.http_variant(manifest.load(), "https://bot.example.com/")
    checked = manifest.check(variant)
    url = "https://bot.example.com/slack/events"
    assert checked.settings.socket_mode_enabled is False
    assert checked.settings.event_subscriptions.request_url == url
    assert checked.settings.interactivity.request_url == url
    assert all(c.url == url for c in checked.features.slash_commands)


@pytest.mark.parametrize(
    "change",
    [
        lambda m: m["display_information"].update(name="x" * 36),
        lambda m: m["features"]["slash_commands"].append({"command": "ask", "description": "d"}),
        lambda m: m["features"]["assistant_view"].pop("assistant_description"),
        lambda m: m["settings"].update(unknown_setting=True),
    ],
)
def test_what_slack_would_refuse_is_refused(change) -> None:
    data = manifest.load()
    change(data)
    with pytest.raises(ValidationError):
        manifest.check(data)


def _hint(command: str) -> str:
    [found] = [
        c for c in manifest.check(manifest.load()).features.slash_commands if c.command == command
    ]
    return found.usage_hint or ""


def test_the_teammate_usage_hint_names_every_subcommand_the_handlers_take() -> None:
    app = AsyncApp(token="xoxb-test", signing_secret="secret")
    on = Listeners(app, claims=None, tracker=WorkTracker())  # type: ignore[arg-type]
    for module in handlers.MODULES:
        module.register(on)
    named = [part.split()[0] for part in _hint("/teammate").split(", ")]
    # `help` is the catch-all: every other text shows the help too.
    assert sorted(named) == sorted([*on.subcommands["/teammate"], "help"])
    assert "deep on|off" in _hint("/teammate")
    assert "--no-deep" in _hint("/ask") and "--deep" in _hint("/ask")
