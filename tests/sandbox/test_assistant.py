"""The assistant panel: thread started, status, suggested prompts, title; App Home."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver


async def test_opening_the_panel_starts_a_thread(sandbox: Sandbox, receiver: Receiver) -> None:
    opened = sandbox.open_assistant_thread("alice", context_channel="general")
    assert opened["channel"] == "D0ALICE"
    await sandbox.settle()
    started = receiver.events("assistant_thread_started")[0].event
    assert started["assistant_thread"] == {
        "user_id": "U0ALICE",
        "context": {"channel_id": "C0GENERAL", "team_id": "T0SANDBOX", "enterprise_id": None},
        "channel_id": "D0ALICE",
        "thread_ts": opened["thread_ts"],
    }

    sandbox.post_message("alice", "D0ALICE", "summarise #general", thread_ts=opened["thread_ts"])
    await sandbox.settle()
    message = receiver.events("message")[-1].event
    assert message["channel_type"] == "im" and message["thread_ts"] == opened["thread_ts"]


async def test_status_prompts_and_title_are_kept_per_thread(
    sandbox: Sandbox, client: AsyncWebClient
) -> None:
    opened = sandbox.open_assistant_thread("bob")
    channel, thread_ts = opened["channel"], opened["thread_ts"]
    await client.assistant_threads_setSuggestedPrompts(
        channel_id=channel,
        thread_ts=thread_ts,
        title="Try:",
        prompts=[{"title": "Summarise", "message": "Summarise this channel"}],
    )
    await client.assistant_threads_setStatus(
        channel_id=channel,
        thread_ts=thread_ts,
        status="is thinking…",
        loading_messages=["Reading the thread…"],
    )
    await client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts, title="DNS")
    shown = sandbox.assistant(channel, thread_ts)
    assert shown["status"] == "is thinking…"
    assert shown["loading_messages"] == ["Reading the thread…"]
    assert shown["suggested_prompts"]["prompts"][0]["title"] == "Summarise"
    assert shown["title"] == "DNS"

    await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text="Here you go")
    shown = sandbox.assistant(channel, thread_ts)
    assert shown["status"] == ""
    assert [s["status"] for s in shown["status_history"]] == ["is thinking…", ""]


async def test_app_home(sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient) -> None:
    sandbox.open_home("carol")
    await sandbox.settle()
    assert receiver.events("app_home_opened")[0].event["user"] == "U0CAROL"
    await client.views_publish(user_id="U0CAROL", view={"type": "home", "blocks": []})
    assert sandbox.home("carol")["type"] == "home"
