"""The control API over HTTP, and waiting for changes without sleeping."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver


async def test_control_api_round_trip(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:

        async def call(verb: str, path: str, body: dict | None = None) -> tuple[int, dict]:
            async with http.request(verb, "/_sandbox" + path, json=body) as resp:
                return resp.status, await resp.json()

        status, info = await call("GET", "/")
        assert info["bot_token"] == sandbox.bot_token and info["api_url"] == sandbox.api_url

        status, posted = await call(
            "POST", "/messages", {"user": "alice", "channel": "#general", "text": "@teammate hi"}
        )
        assert status == 200 and posted["channel"] == "C0GENERAL" and len(posted["event_ids"]) == 2
        await client.chat_postMessage(channel="C0GENERAL", thread_ts=posted["ts"], text="hello")

        status, thread = await call("GET", f"/threads?channel=C0GENERAL&ts={posted['ts']}")
        assert [m["text"] for m in thread["messages"]] == ["<@U0TEAMMATE> hi", "hello"]
        assert thread["messages"][1]["bot_id"] == "B0TEAMMATE"

        status, waited = await call(
            "GET", f"/threads/wait?channel=general&ts={posted['ts']}&replies=1&timeout=1"
        )
        assert status == 200 and len(waited["messages"]) == 2
        status, timed_out = await call(
            "GET", f"/threads/wait?channel=general&ts={posted['ts']}&replies=2&timeout=0.05"
        )
        assert status == 408 and timed_out["error"] == "timeout"

        status, edited = await call(
            "POST", "/messages/edit", {"channel": "general", "ts": posted["ts"], "text": "bye"}
        )
        assert status == 200 and len(edited["event_ids"]) == 1

        status, made = await call("POST", "/users", {"name": "dave", "real_name": "Dave Diaz"})
        assert made["user"]["id"] == "U0DAVE"
        status, room = await call("POST", "/channels", {"name": "design", "bot_member": False})
        assert room["channel"]["id"] == "C0DESIGN" and room["channel"]["is_member"] is False
        status, members = await call("POST", "/channels/C0DESIGN/members", {"add": ["teammate"]})
        assert "U0TEAMMATE" in members["members"]
        status, channels = await call("GET", "/channels")
        assert {"general", "random", "private-ops", "design"} <= {
            c["name"] for c in channels["channels"]
        }
        status, listed = await call("GET", "/channels/general/messages")
        assert listed["messages"][0]["reply_count"] == 1

        status, calls = await call("GET", "/calls?method=chat.postMessage")
        assert len(calls["calls"]) == 1 and calls["calls"][0]["ok"] is True

        await sandbox.settle()
        status, deliveries = await call("GET", "/deliveries")
        first = deliveries["deliveries"][0]
        assert first["kind"] == "event" and first["status"] == 200
        status, again = await call(
            "POST", "/deliveries/redeliver", {"event_id": first["id"], "retry_num": 1}
        )
        assert again["retry_num"] == 1 and again["ok"] is True

        status, error = await call("POST", "/messages", {"user": "zed", "channel": "general"})
        assert status == 400
        status, error = await call(
            "POST", "/messages", {"user": "zed", "channel": "general", "text": "x"}
        )
        assert status == 404 and "zed" in error["error"]

        status, config = await call("POST", "/config", {"retry_schedule": [0, 2, 4]})
        assert config["retry_schedule"] == [0.0, 2.0, 4.0]
        status, _ = await call("POST", "/reset")
        status, channels = await call("GET", "/channels")
        assert "design" not in {c["name"] for c in channels["channels"]}
        assert sandbox.calls() == []


async def test_wait_for_wakes_on_change_and_times_out(sandbox: Sandbox) -> None:
    posted = sandbox.post_message("alice", "general", "ping")

    async def answer_later() -> None:
        await asyncio.sleep(0.01)
        sandbox.post_message("bob", "general", "pong", thread_ts=posted["ts"])

    task = asyncio.create_task(answer_later())
    replies = await sandbox.wait_for_replies("general", posted["ts"], count=1, timeout=2)
    await task
    assert replies[0]["text"] == "pong"
    with pytest.raises(TimeoutError):
        await sandbox.wait_for(lambda: False, timeout=0.05)


async def test_subscribe_yields_change_records(sandbox: Sandbox) -> None:
    async with sandbox.subscribe() as changes:
        sandbox.post_message("carol", "random", "news")
        record = await asyncio.wait_for(anext(changes), 1)
    assert record["kind"] == "message" and record["channel"] == "C0RANDOM"
