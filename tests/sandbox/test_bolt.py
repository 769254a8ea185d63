"""A real Bolt AsyncApp in HTTP mode, wired to the sandbox exactly as it would be to Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.poll_app import serving_over_http

APPROVE = [
    {
        "type": "actions",
        "block_id": "b",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    }
]


def build_app(sandbox: Sandbox) -> AsyncApp:
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    app = AsyncApp(client=client, signing_secret=sandbox.signing_secret)

    @app.event("app_mention")
    async def mention(event, say_stream) -> None:
        stream = await say_stream(buffer_size=8)
        for word in ("Hello ", "from ", "Bolt"):
            await stream.append(markdown_text=word)
        await stream.stop(blocks=APPROVE)

    @app.event("message")
    async def message() -> None:
        return None

    @app.command("/ask")
    async def ask(ack, respond, command) -> None:
        await ack(f"Thinking about {command['text']}…")
        await respond(text="42", response_type="in_channel")

    @app.action("approve")
    async def approve(ack, respond) -> None:
        await ack()
        await respond(replace_original=True, text="Approved")

    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(set_suggested_prompts) -> None:
        await set_suggested_prompts(prompts=[{"title": "Hi", "message": "Say hi"}])

    @assistant.user_message
    async def user_message(set_status, say, payload) -> None:
        await set_status("is thinking…")
        await say(f"echo: {payload['text']}")

    app.assistant(assistant)
    return app


@pytest.fixture
async def bolt_sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(retry_schedule=(0, 0.05, 0.1), rate_limits=True) as sandbox:
        app = build_app(sandbox)

        async with serving_over_http(sandbox, app):
            yield sandbox


async def test_mention_streams_a_reply_and_a_button_replaces_it(bolt_sandbox: Sandbox) -> None:
    sandbox = bolt_sandbox
    posted = sandbox.post_message("alice", "general", "@teammate hi")
    (reply,) = await sandbox.wait_for_replies("general", posted["ts"], count=1, timeout=5)
    assert reply["text"] == "Hello from Bolt"
    assert reply["bot_id"] == sandbox.bot_id
    assert sandbox.ratelimited == 0

    clicked = await sandbox.click("alice", "general", reply["ts"], "approve")
    assert clicked["status"] == 200
    await sandbox.wait_for(
        lambda: sandbox.replies("general", posted["ts"])[0]["text"] == "Approved"
    )
    await sandbox.settle()
    assert all(d["ok"] for d in sandbox.deliveries())


async def test_slash_command_acks_then_responds(bolt_sandbox: Sandbox) -> None:
    sandbox = bolt_sandbox
    result = await sandbox.run_command("bob", "private-ops", "/ask", "life")
    assert result["status"] == 200 and result["failed"] is False
    assert sandbox.ephemeral("bob")[0]["text"] == "Thinking about life…"
    shown = await sandbox.wait_for(lambda: sandbox.channel_messages("private-ops"))
    assert shown[0]["text"] == "42"


async def test_assistant_thread_with_bolt(bolt_sandbox: Sandbox) -> None:
    sandbox = bolt_sandbox
    opened = sandbox.open_assistant_thread("carol")
    channel, thread_ts = opened["channel"], opened["thread_ts"]
    prompts = await sandbox.wait_for(
        lambda: (sandbox.assistant(channel, thread_ts) or {}).get("suggested_prompts")
    )
    assert prompts["prompts"][0]["title"] == "Hi"
    sandbox.post_message("carol", channel, "ping", thread_ts=thread_ts)
    replies = await sandbox.wait_for_replies(channel, thread_ts, count=2, timeout=5)
    assert replies[-1]["text"] == "echo: ping"
    history = sandbox.assistant(channel, thread_ts)["status_history"]
    assert [h["status"] for h in history] == ["is thinking…", ""]
    await asyncio.sleep(0)
