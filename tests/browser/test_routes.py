"""The page's server side, over HTTP and without a browser: the page and its assets, the
snapshot it draws from, and the live stream of changes."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox


async def test_page_assets_and_info(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        async with http.get("/") as resp:
            page = await resp.text()
            assert resp.status == 200 and resp.content_type == "text/html"
        assert "/static/app.js?v=" in page and "{{version}}" not in page
        for asset, kind in (("app.js", "javascript"), ("app.css", "text/css")):
            async with http.get(f"/static/{asset}") as resp:
                assert resp.status == 200 and kind in resp.content_type
                assert len(await resp.read()) > 1000
        async with http.get("/static/../server.py") as resp:
            assert resp.status in (403, 404)
        async with http.get("/_sandbox/info") as resp:
            assert (await resp.json())["bot_token"] == sandbox.bot_token


async def test_snapshot_has_everything_the_page_draws(sandbox: Sandbox) -> None:
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    asked = sandbox.post_message("alice", "general", "@teammate hello")
    started = await client.chat_startStream(
        channel="C0GENERAL",
        thread_ts=asked["ts"],
        recipient_team_id=sandbox.team_id,
        recipient_user_id="U0ALICE",
        markdown_text="**Hi**",
    )
    await client.chat_postMessage(channel="C0GENERAL", thread_ts=asked["ts"], text="*plain*")
    await client.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="psst")
    opened = sandbox.open_assistant_thread("carol")
    await client.assistant_threads_setSuggestedPrompts(
        channel_id=opened["channel"],
        thread_ts=opened["thread_ts"],
        prompts=[{"title": "Try", "message": "Try this"}],
    )
    await client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})

    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        async with http.get("/_sandbox/snapshot") as resp:
            snap = await resp.json()

    assert snap["team"]["name"] == "Sandbox" and snap["bot"]["user_id"] == sandbox.bot_user_id
    assert {"alice", "bob", "carol", "teammate"} <= {u["name"] for u in snap["users"]}
    general = next(c for c in snap["channels"] if c["name"] == "general")
    assert "U0ALICE" in general["members"] and general["bot_member"] is True
    assert {d["user"] for d in snap["dms"]} >= {"U0ALICE", "U0BOB", "U0CAROL"}
    messages = {m["ts"]: m for m in snap["messages"]["C0GENERAL"]}
    assert messages[asked["ts"]]["reply_count"] == 2
    streamed = messages[started["ts"]]
    assert streamed["streaming"] is True and streamed["markdown"] is True
    plain = next(m for m in messages.values() if m["text"] == "*plain*")
    assert plain["markdown"] is False
    assert [n["text"] for n in snap["ephemeral"]["U0BOB"]] == ["psst"]
    [panel] = [a for a in snap["assistant"] if a["user_id"] == "U0CAROL"]
    assert panel["suggested_prompts"]["prompts"][0]["title"] == "Try"
    assert snap["home"]["U0ALICE"]["type"] == "home"
    assert [c["command"] for c in snap["slash_commands"]] == ["/ask", "/task", "/teammate"]

    await client.chat_stopStream(channel="C0GENERAL", ts=started["ts"])
    after = {m["ts"]: m for m in sandbox.webui.snapshot()["messages"]["C0GENERAL"]}
    assert after[started["ts"]]["streaming"] is False and after[started["ts"]]["markdown"] is True


def test_slash_commands_come_from_the_manifest() -> None:
    manifest = {
        "display_information": {"name": "Helper"},
        "features": {
            "slash_commands": [
                {"command": "/ask", "description": "Ask", "usage_hint": "<q>", "should_escape": 0},
                {"command": "teammate", "description": "Help"},
                {"description": "no command"},
            ]
        },
    }
    box = Sandbox(manifest=manifest)
    assert box.webui.snapshot()["slash_commands"] == [
        {"command": "/ask", "description": "Ask", "usage_hint": "<q>"},
        {"command": "/teammate", "description": "Help", "usage_hint": ""},
    ]
    assert box.webui.snapshot()["bot"]["name"] == "Helper"
    assert box.webui.snapshot()["bot"]["home_tab"] is False  # the manifest has no app_home


async def test_stream_sends_change_records_and_ends_when_the_sandbox_stops() -> None:
    box = await Sandbox(rate_limits=False).start()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{box.url}/_sandbox/stream") as resp:
            assert resp.content_type == "text/event-stream"

            async def next_record() -> dict:
                while True:
                    line = (await resp.content.readline()).decode()
                    if line.startswith("data: "):
                        return json.loads(line[len("data: ") :])

            hello = await asyncio.wait_for(next_record(), 5)
            assert hello["kind"] == "hello"
            posted = box.post_message("bob", "random", "news")
            record = await asyncio.wait_for(next_record(), 5)
            while record["kind"] != "message":
                record = await asyncio.wait_for(next_record(), 5)
            assert record["ts"] == posted["ts"] and record["channel"] == "C0RANDOM"

            # An open page must not keep the server from stopping.
            await asyncio.wait_for(box.stop(), 5)
            await asyncio.wait_for(resp.content.read(), 5)  # the stream ended
            assert resp.content.at_eof()
