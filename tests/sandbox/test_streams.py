"""chat.startStream / appendStream / stopStream, directly and through slack_sdk's chat_stream."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox

RECIPIENT = {"recipient_team_id": "T0SANDBOX", "recipient_user_id": "U0ALICE"}


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


async def test_stream_grows_one_message_then_settles(
    client: AsyncWebClient, sandbox: Sandbox
) -> None:
    parent = sandbox.post_message("alice", "general", "@teammate explain")
    started = await client.chat_startStream(
        channel="C0GENERAL", thread_ts=parent["ts"], markdown_text="Hello", **RECIPIENT
    )
    ts = started["ts"]
    reply = sandbox.thread("general", parent["ts"])[1]
    assert reply["streaming"] is True and reply["text"] == "Hello"

    await client.chat_appendStream(channel="C0GENERAL", ts=ts, markdown_text=", world")
    await client.chat_appendStream(
        channel="C0GENERAL", ts=ts, chunks=[{"type": "markdown_text", "text": "!"}]
    )
    footer = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "model x"}]}]
    await client.chat_stopStream(
        channel="C0GENERAL",
        ts=ts,
        markdown_text=" Done.",
        blocks=footer,
        metadata={"event_type": "answer", "event_payload": {"id": 1}},
    )
    thread = sandbox.thread("general", parent["ts"])
    assert len(thread) == 2
    final = thread[1]
    assert final["text"] == "Hello, world! Done."
    assert final["streaming"] is False
    assert final["blocks"] == footer
    assert final["metadata"]["event_type"] == "answer"

    assert (
        await error_of(client.chat_appendStream(channel="C0GENERAL", ts=ts, markdown_text="more"))
        == "message_not_in_streaming_state"
    )


async def test_stream_argument_and_size_errors(client: AsyncWebClient, sandbox: Sandbox) -> None:
    parent = sandbox.post_message("alice", "general", "hi")
    no_recipient = client.chat_startStream(channel="C0GENERAL", thread_ts=parent["ts"])
    assert await error_of(no_recipient) == "invalid_arguments"

    started = await client.chat_startStream(
        channel="C0GENERAL", thread_ts=parent["ts"], **RECIPIENT
    )
    too_big = client.chat_appendStream(
        channel="C0GENERAL", ts=started["ts"], markdown_text="x" * 12_001
    )
    assert await error_of(too_big) == "msg_too_long"
    for _ in range(3):
        await client.chat_appendStream(
            channel="C0GENERAL", ts=started["ts"], markdown_text="y" * 12_000
        )
    over_total = client.chat_appendStream(
        channel="C0GENERAL", ts=started["ts"], markdown_text="z" * 4_001
    )
    assert await error_of(over_total) == "msg_too_long"
    assert len(sandbox.thread("general", parent["ts"])[1]["text"]) == 36_000


async def test_a_dm_needs_no_recipient(client: AsyncWebClient, sandbox: Sandbox) -> None:
    parent = sandbox.post_message("bob", "D0BOB", "hello")
    started = await client.chat_startStream(channel="D0BOB", thread_ts=parent["ts"])
    await client.chat_stopStream(channel="D0BOB", ts=started["ts"], markdown_text="hi bob")
    assert sandbox.replies("D0BOB", parent["ts"])[0]["text"] == "hi bob"


async def test_slack_sdk_chat_stream_helper(client: AsyncWebClient, sandbox: Sandbox) -> None:
    parent = sandbox.post_message("carol", "random", "tell me")
    stream = await client.chat_stream(
        channel="C0RANDOM", thread_ts=parent["ts"], buffer_size=10, **RECIPIENT
    )
    for word in ["alpha ", "beta ", "gamma ", "delta"]:
        await stream.append(markdown_text=word)
    await stream.stop(markdown_text=".")
    replies = sandbox.replies("random", parent["ts"])
    assert [r["text"] for r in replies] == ["alpha beta gamma delta."]
    assert replies[0]["streaming"] is False
    methods = [c["method"] for c in sandbox.calls() if c["method"].startswith("chat.")]
    assert methods[0] == "chat.startStream" and methods[-1] == "chat.stopStream"


async def test_a_task_update_replaces_the_task_with_its_id(
    client: AsyncWebClient, sandbox: Sandbox
) -> None:
    parent = sandbox.post_message("alice", "general", "look it up")
    task = {"type": "task_update", "id": "t1", "title": "Searching", "status": "in_progress"}
    started = await client.chat_startStream(
        channel="C0GENERAL",
        thread_ts=parent["ts"],
        task_display_mode="timeline",
        chunks=[task],
        **RECIPIENT,
    )
    done = {**task, "status": "complete", "output": "2 pages"}
    await client.chat_stopStream(
        channel="C0GENERAL",
        ts=started["ts"],
        chunks=[done, {"type": "markdown_text", "text": "Found it."}],
    )
    reply = sandbox.thread("general", parent["ts"])[1]
    assert reply["chunks"] == [done] and reply["text"] == "Found it."
