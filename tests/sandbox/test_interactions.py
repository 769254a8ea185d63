"""Slash commands and button clicks: the request bodies, response_url, and failures."""

from __future__ import annotations

import json

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver, Reply

BUTTONS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Run the tool?"}},
    {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "tool-42",
                "text": {"type": "plain_text", "text": "Approve"},
            },
            {"type": "button", "action_id": "deny", "text": {"type": "plain_text", "text": "Deny"}},
        ],
    },
]


async def respond(url: str, body: dict) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as resp:
            return resp.status


async def test_slash_command_form_and_immediate_reply(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answer = lambda got: Reply(
        body=json.dumps({"text": "working on it"}), content_type="application/json"
    )
    result = await sandbox.run_command("alice", "private-ops", "/ask", "what is DNS?")
    assert result["status"] == 200 and result["failed"] is False
    form = receiver.requests[0]
    assert form.valid and form.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert form.body["command"] == "/ask" and form.body["text"] == "what is DNS?"
    assert form.body["channel_id"] == "C0NOBOT" and form.body["user_id"] == "U0ALICE"
    assert form.body["trigger_id"] == result["trigger_id"]
    assert form.body["api_app_id"] == "A0TEAMMATE" and form.body["team_id"] == "T0SANDBOX"
    assert form.body["response_url"].startswith(sandbox.url)
    assert [e["text"] for e in sandbox.ephemeral("alice")] == ["working on it"]

    status = await respond(
        form.body["response_url"], {"text": "DNS maps names", "response_type": "in_channel"}
    )
    assert status == 200
    shown = sandbox.channel_messages("private-ops")
    assert shown[-1]["text"] == "DNS maps names" and shown[-1]["bot_id"] == "B0TEAMMATE"
    await respond(form.body["response_url"], {"text": "only you see this"})
    assert sandbox.ephemeral("alice")[-1]["text"] == "only you see this"


async def test_a_failing_command_shows_the_user_an_error(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.answer = lambda got: Reply(status=500)
    result = await sandbox.run_command("bob", "general", "ask", "hi")
    assert result["failed"] is True and result["status"] == 500
    assert result["note"] == '/ask failed with the error "dispatch_failed"'
    assert len(receiver.requests) == 1
    assert sandbox.ephemeral("bob")[-1]["text"] == result["note"]

    sandbox.configure(ack_timeout=0.1)
    receiver.answer = lambda got: Reply(delay=0.3)
    slow = await sandbox.run_command("bob", "general", "/ask", "slow")
    assert slow["outcome"] == "timeout" and "operation_timeout" in slow["note"]
    await sandbox.settle()
    assert len(receiver.requests) == 2


async def test_clicking_a_button_sends_block_actions(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    parent = sandbox.post_message("carol", "general", "@teammate delete the file")
    posted = await client.chat_postMessage(
        channel="C0GENERAL", thread_ts=parent["ts"], text="Approve?", blocks=BUTTONS
    )
    await sandbox.settle()
    receiver.requests.clear()
    result = await sandbox.click("carol", "general", posted["ts"], "approve")
    assert result["status"] == 200 and result["failed"] is False
    payload = receiver.requests[0].body
    assert receiver.requests[0].valid
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0CAROL"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C0GENERAL",
        "is_ephemeral": False,
        "thread_ts": parent["ts"],
    }
    assert payload["message"]["ts"] == posted["ts"]
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "approval",
        "tool-42",
    )
    assert payload["trigger_id"] == result["trigger_id"]

    await respond(payload["response_url"], {"replace_original": True, "text": "Approved"})
    assert sandbox.thread("general", parent["ts"])[1]["text"] == "Approved"


async def test_control_api_over_http_for_commands_and_clicks(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        async with http.post(
            "/_sandbox/commands",
            json={"user": "alice", "channel": "general", "command": "/usage", "text": ""},
        ) as resp:
            command = await resp.json()
        assert command["status"] == 200 and command["trigger_id"]
        async with http.post(
            "/_sandbox/actions",
            json={"user": "alice", "channel": "general", "message_ts": "1.2", "action_id": "x"},
        ) as resp:
            assert resp.status == 404
