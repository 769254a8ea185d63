"""The workspace in a state file: a restart keeps the conversations, the clock and the secrets;
a bad file is set aside, never lost; a failed write never damages the previous file."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox, persist
from bot.sandbox.ids import format_ts, ts_key
from bot.sandbox.state import Identity
from tests.sandbox.conftest import FAST_RETRIES

RECIPIENT = {"recipient_team_id": "T0SANDBOX", "recipient_user_id": "U0ALICE"}
HOME = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome back"}}],
}


def make(path: Path, **kwargs: Any) -> Sandbox:
    return Sandbox(
        retry_schedule=FAST_RETRIES,
        ack_timeout=0.5,
        rate_limits=False,
        state_path=path,
        **kwargs,
    )


def client_for(box: Sandbox) -> AsyncWebClient:
    return AsyncWebClient(token=box.bot_token, base_url=box.api_url)


def secrets_of(box: Sandbox) -> tuple[str, ...]:
    return (box.signing_secret, box.bot_token, box.app_token, box.verification_token)


def saved(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def files_in(directory: Path, pattern: str = "*") -> list[Path]:
    """The directory's entries, hidden ones too (a temporary file's name starts with a dot)."""
    return sorted(directory.glob(pattern))


def general_messages(path: Path) -> list[dict[str, Any]]:
    channels = saved(path)["channels"]
    return next(c["messages"] for c in channels if c["id"] == "C0GENERAL")


def view_of(box: Sandbox, assistant: tuple[str, str]) -> dict[str, Any]:
    """Everything the façade shows about the workspace."""
    return {
        "users": box.users(),
        "channels": box.channels(),
        "general": box.channel_messages("general", include_replies=True),
        "projects": box.channel_messages("projects", include_replies=True),
        "dm": box.channel_messages(assistant[0], include_replies=True),
        "ephemeral": box.ephemeral("carol"),
        "assistant": box.assistant(*assistant),
        "home": box.home("carol"),
    }


async def test_a_restart_keeps_the_workspace(tmp_path: Path) -> None:
    path = tmp_path / "data" / "sandbox.json"
    first = await make(path).start()
    client = client_for(first)
    try:
        first.add_user("dave", "Dave Diaz")
        first.add_channel("projects", members=["alice", "dave"])
        first.post_message("dave", "projects", "kickoff at ten")
        parent = first.post_message("alice", "general", "@teammate hello")
        await client.chat_postMessage(channel="C0GENERAL", thread_ts=parent["ts"], text="Hi!")
        first.post_message("bob", "general", "me too", thread_ts=parent["ts"])
        first.edit_message("general", parent["ts"], "@teammate hello again")
        await client.reactions_add(channel="C0GENERAL", timestamp=parent["ts"], name="eyes")
        gone = first.post_message("carol", "general", "oops", thread_ts=parent["ts"])
        first.delete_message("general", gone["ts"])

        opened = first.open_assistant_thread("bob", context_channel="general")
        chat = (opened["channel"], opened["thread_ts"])
        first.post_message("bob", chat[0], "what happened today?", thread_ts=chat[1])
        await client.assistant_threads_setSuggestedPrompts(
            channel_id=chat[0],
            thread_ts=chat[1],
            prompts=[{"title": "Summarise", "message": "Summarise #general"}],
        )
        await client.assistant_threads_setTitle(channel_id=chat[0], thread_ts=chat[1], title="Day")
        await client.assistant_threads_setStatus(
            channel_id=chat[0], thread_ts=chat[1], status="is reading…"
        )

        await client.chat_postEphemeral(channel="C0GENERAL", user="U0CAROL", text="psst")
        await client.views_publish(user_id="U0CAROL", view=HOME)

        started = await client.chat_startStream(
            channel="C0GENERAL", thread_ts=parent["ts"], markdown_text="Thinking", **RECIPIENT
        )
        await client.chat_appendStream(channel="C0GENERAL", ts=started["ts"], markdown_text=" hard")
        assert first.thread("general", started["ts"])[-1]["streaming"] is True
        before = view_of(first, chat)
        keys = secrets_of(first)
    finally:
        await first.stop()

    on_disk = saved(path)
    assert on_disk["version"] == persist.VERSION
    assert not {"calls", "deliveries", "config"} & on_disk.keys()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    second = make(path)
    assert secrets_of(second) == keys
    await second.start()
    client = client_for(second)
    try:
        after = view_of(second, chat)
        streamed = next(m for m in before["general"] if m["ts"] == started["ts"])
        streamed["streaming"] = False
        assert after == before
        assert [m["text"] for m in second.thread("general", parent["ts"])] == [
            "<@U0TEAMMATE> hello again",
            "Hi!",
            "me too",
            "Thinking hard",
        ]
        assert after["assistant"]["title"] == "Day"
        assert after["assistant"]["status"] == "is reading…"
        assert after["ephemeral"][0]["text"] == "psst"
        shown = [{k: v for k, v in b.items() if k != "block_id"} for b in after["home"]["blocks"]]
        assert shown == HOME["blocks"]  # Slack gives each block an id
        assert second.calls() == [] and second.deliveries() == []

        async with aiohttp.ClientSession(base_url=second.url) as http:
            url = f"/_sandbox/threads?channel=general&ts={parent['ts']}"
            async with http.get(url) as resp:
                shown = (await resp.json())["messages"]
        assert [m["ts"] for m in shown] == [m["ts"] for m in second.thread("general", parent["ts"])]

        assert (await client.auth_test())["user_id"] == "U0TEAMMATE"
        with pytest.raises(SlackApiError) as caught:
            await client.chat_appendStream(channel="C0GENERAL", ts=started["ts"], markdown_text="!")
        assert caught.value.response["error"] == "message_not_in_streaming_state"

        newest = max(ts_key(m["ts"]) for m in before["general"] + before["dm"])
        reply = second.post_message("alice", "general", "still here?", thread_ts=parent["ts"])
        assert ts_key(reply["ts"]) > newest
        bot = await client.chat_postMessage(channel="C0GENERAL", text="yes")
        assert ts_key(bot["ts"]) > ts_key(reply["ts"])
    finally:
        await second.stop()


async def test_the_clock_resumes_after_the_saved_one(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    box = await make(path).start()
    await box.stop()
    future = 4_102_444_800 * 1_000_000  # 2100-01-01: later than any wall clock running this
    data = saved(path)
    data["clock"] = future
    path.write_text(json.dumps(data), "utf-8")

    box = await make(path).start()
    try:
        posted = box.post_message("alice", "general", "hello from the past")
        assert ts_key(posted["ts"]) > future
        assert posted["ts"].startswith(format_ts(future).split(".")[0])
    finally:
        await box.stop()


async def test_given_secrets_and_identity_win_over_saved_ones(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    other = Identity(team_id="T0OTHER", team_name="Other")
    box = await make(path, identity=other).start()
    old = secrets_of(box)
    await box.stop()

    box = make(path, bot_token="xoxb-given", signing_secret="given-secret")
    assert box.team_id == "T0OTHER"
    assert secrets_of(box) == ("given-secret", "xoxb-given", old[2], old[3])
    await box.start()
    await box.stop()
    assert saved(path)["secrets"]["bot_token"] == "xoxb-given"
    assert make(path).bot_token == "xoxb-given"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"format": "teammate-sandbox-workspace", "version": 1, "users": [',
        b"\xff\xfe not text",
        b'["a list"]',
        b'{"format": "something else", "version": 1}',
        b'{"format": "teammate-sandbox-workspace", "version": 99, "users": [], "channels": []}',
        b'{"format": "teammate-sandbox-workspace", "version": 1, "users": 5, "channels": []}',
        b'{"format": "teammate-sandbox-workspace", "version": 1, "users": [],'
        b' "channels": [{"id": "C1", "name": "x", "messages": [{"channel": "C1"}]}]}',
    ],
    ids=[
        "empty",
        "truncated",
        "not-utf8",
        "not-an-object",
        "other-format",
        "newer-version",
        "wrong-type",
        "message-without-ts",
    ],
)
async def test_a_bad_file_is_moved_aside_and_the_seed_used(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sandbox.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="bot.sandbox.persist"):
        box = make(path)
    aside = files_in(tmp_path, "sandbox.json.corrupt-*")
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert "moved it to" in caplog.text and aside[0].name in caplog.text
    assert {u["name"] for u in box.users()} == {"teammate", "alice", "bob", "carol"}
    assert box.channel_messages("general") == []

    await box.start()
    await box.stop()
    assert saved(path)["secrets"]["bot_token"] == box.bot_token

    path.write_bytes(content)
    make(path)
    assert len(files_in(tmp_path, "sandbox.json.corrupt-*")) == 2


async def test_a_file_that_cannot_be_moved_aside_is_left_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sandbox.json"
    path.write_bytes(b"{broken")

    def refuse(target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(persist, "move_aside", refuse)
    with caplog.at_level(logging.WARNING, logger="bot.sandbox.persist"):
        box = await make(path).start()
    box.post_message("alice", "general", "not saved")
    await box.stop()
    assert path.read_bytes() == b"{broken"
    assert "saving nothing" in caplog.text


async def test_a_failed_write_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sandbox.json"
    box = await make(path).start()
    try:
        first = box.post_message("alice", "general", "first")
        await box.state_file.flush()
        good = path.read_bytes()
        assert first["ts"] in good.decode()

        box.post_message("alice", "general", "second")

        def crash(src: Any, dst: Any) -> None:
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as patch, caplog.at_level(logging.WARNING):
            patch.setattr(persist.os, "replace", crash)
            assert await box.state_file.save() is False
        assert path.read_bytes() == good
        assert [p.name for p in files_in(tmp_path)] == ["sandbox.json"]
        assert "could not save" in caplog.text

        assert await box.state_file.save() is True
        assert "second" in path.read_text("utf-8")
    finally:
        await box.stop()


async def test_a_temporary_file_left_by_a_crash_is_cleaned_up(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    box = await make(path).start()
    box.post_message("alice", "general", "kept")
    await box.stop()
    (tmp_path / ".sandbox.json.abc123.tmp").write_bytes(b'{"half": ')

    box = make(path)
    assert [m["text"] for m in box.channel_messages("general")] == ["kept"]
    assert [p.name for p in files_in(tmp_path)] == ["sandbox.json"]


async def test_changes_are_saved_without_a_stop_and_bursts_coalesce(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    box = await make(path).start()
    state = box.state_file
    assert state is not None
    try:
        writes = state.writes
        for n in range(20):
            box.post_message("alice", "general", f"message {n}")
        await state.flush()
        assert state.writes == writes + 1
        assert len(general_messages(path)) == 20

        state.delay = 0.01
        posted = box.post_message("bob", "general", "saved by the timer")
        for _ in range(500):
            if posted["ts"] in path.read_text("utf-8"):
                break
            await asyncio.sleep(0.01)
        assert posted["ts"] in path.read_text("utf-8")
        await state.flush()  # the file is in place a moment before the write is counted
        assert state.writes == writes + 2
    finally:
        await box.stop()


async def test_reset_resets_the_saved_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.json"
    box = await make(path).start()
    try:
        box.post_message("alice", "general", "to be forgotten")
        box.add_channel("scratch")
        await box.state_file.flush()
        assert "to be forgotten" in path.read_text("utf-8")

        async with aiohttp.ClientSession(base_url=box.url) as http:
            async with http.post("/_sandbox/reset") as resp:
                assert resp.status == 200
        await box.state_file.flush()
        data = saved(path)
        assert all(not c["messages"] for c in data["channels"])
        assert "scratch" not in {c["name"] for c in data["channels"]}
        assert data["secrets"]["bot_token"] == box.bot_token
    finally:
        await box.stop()

    again = make(path)
    assert again.bot_token == box.bot_token
    assert again.channel_messages("general") == []


async def test_a_streamed_answer_is_still_markdown_after_a_restart(tmp_path) -> None:
    path = tmp_path / "sandbox.json"
    async with Sandbox(state_path=path, rate_limits=False) as box:
        client = AsyncWebClient(token=box.bot_token, base_url=box.api_url)
        parent = box.post_message("alice", "general", "question")
        stream = await client.chat_startStream(
            channel="C0GENERAL",
            thread_ts=parent["ts"],
            markdown_text="**bold** answer",
            recipient_team_id=box.team_id,
            recipient_user_id="U0ALICE",
        )
        await client.chat_stopStream(channel="C0GENERAL", ts=stream["ts"])
    async with Sandbox(state_path=path, rate_limits=False) as again:
        drawn = again.webui.snapshot()["messages"]["C0GENERAL"]
        [answer] = [m for m in drawn if m["ts"] == stream["ts"]]
        assert answer["markdown"] is True  # the page still draws it as Markdown
