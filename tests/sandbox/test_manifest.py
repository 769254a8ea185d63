"""The app's manifest decides what the sandbox sends the app and lets it do, as in Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox, app_manifest
from bot.sandbox.__main__ import main
from tests.sandbox.conftest import FAST_RETRIES
from tests.sandbox.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]

DM_ONLY = {
    "display_information": {"name": "Desk Helper"},
    "features": {"bot_user": {"display_name": "Desk Helper"}},
    "oauth_config": {"scopes": {"bot": ["chat:write", "im:history", "users:read"]}},
    "settings": {"event_subscriptions": {"bot_events": ["message.im"]}},
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """This module's sandbox serves an app that subscribed to DMs only."""
    async with Sandbox(retry_schedule=FAST_RETRIES, rate_limits=False, manifest=DM_ONLY) as box:
        yield box


@pytest.fixture
def desk(sandbox: Sandbox, receiver: Receiver) -> Sandbox:
    return sandbox


async def test_only_subscribed_events_are_delivered(desk: Sandbox, receiver: Receiver) -> None:
    desk.post_message("alice", "general", "@desk_helper are you there?")  # no app_mention
    desk.post_message("alice", "D0ALICE", "hello in a DM")
    desk.open_assistant_thread("bob")
    desk.open_home("carol")
    assert await desk.settle()
    received = receiver.events()
    assert [(r.event["type"], r.event.get("channel_type")) for r in received] == [("message", "im")]
    assert all(r.valid for r in received)


async def test_the_bot_is_called_by_the_manifests_name(desk: Sandbox) -> None:
    client = AsyncWebClient(token=desk.bot_token, base_url=desk.api_url)
    me = await client.auth_test()
    assert me["user"] == "desk_helper" and me["user_id"] == desk.bot_user_id
    profile = (await client.users_info(user=desk.bot_user_id))["user"]
    assert profile["real_name"] == "Desk Helper"
    assert desk.webui.snapshot()["bot"]["name"] == "Desk Helper"
    posted = desk.post_message("bob", "D0BOB", "hi @desk_helper")
    assert desk.thread("D0BOB", posted["ts"])[0]["text"] == f"hi <@{desk.bot_user_id}>"


async def test_a_method_without_its_scope_is_refused(desk: Sandbox) -> None:
    client = AsyncWebClient(token=desk.bot_token, base_url=desk.api_url)
    await client.chat_postMessage(channel="C0GENERAL", text="chat:write is granted")
    await client.conversations_history(channel="D0ALICE")  # im:history is granted
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel="C0GENERAL")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "channels:history"
    assert refused.value.response["provided"] == "chat:write,im:history,users:read"
    with pytest.raises(SlackApiError) as again:
        await client.reactions_add(channel="C0GENERAL", name="eyes", timestamp="1.2")
    assert again.value.response["needed"] == "reactions:write"


async def test_a_manifest_file_and_no_manifest() -> None:
    teammate = app_manifest.load(ROOT / "manifest.yml")
    raw = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert teammate.name == raw["display_information"]["name"]
    assert [c.command for c in teammate.commands or ()] == [
        c["command"] for c in raw["features"]["slash_commands"]
    ]
    assert (
        teammate.command_views()[0]["usage_hint"]
        == raw["features"]["slash_commands"][0]["usage_hint"]
    )
    assert teammate.bot_events == frozenset(raw["settings"]["event_subscriptions"]["bot_events"])
    anything = app_manifest.load(None)
    assert anything.command("/whatever") is not None
    assert anything.wants_event({"type": "message"}, "group")
    with pytest.raises(app_manifest.ManifestError, match="display_information.name"):
        app_manifest.load({"features": {}})


def test_the_command_line_names_a_manifest_it_cannot_read(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--manifest", str(tmp_path / "missing.yml"), "--port", "0"])
    assert "missing.yml: cannot be read" in str(stopped.value.code)


async def test_the_name_survives_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    async with Sandbox(state_path=state, manifest=DM_ONLY, rate_limits=False):
        pass
    async with Sandbox(state_path=state, manifest=DM_ONLY, rate_limits=False) as box:
        assert box.ws.identity.bot_real_name == "Desk Helper"
        assert box.users()[0]["name"] == "desk_helper"
