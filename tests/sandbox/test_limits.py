"""Slack's size limits are enforced, so a bot cannot pass here and fail in Slack."""

from __future__ import annotations

import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_update_over_4000_characters_is_refused(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="short")
    too_long = client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="a" * 4_001)
    assert await error_of(too_long) == "msg_too_long"
    await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="a" * 4_000)


async def test_invalid_blocks(client: AsyncWebClient) -> None:
    cases = [
        [section("x")] * 51,
        [section("x" * 3_001)],
        [{"type": "markdown", "text": "m" * 12_001}],
        [{"text": "no type"}],
    ]
    for blocks in cases:
        call = client.chat_postMessage(channel="C0GENERAL", text="t", blocks=blocks)
        assert await error_of(call) == "invalid_blocks"
    await client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[section("x" * 3_000)] * 50)


async def test_long_posts_are_truncated_and_flagged(
    client: AsyncWebClient, sandbox: Sandbox
) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="b" * 40_010)
    assert len(posted["message"]["text"]) == 40_000
    call = sandbox.calls("chat.postMessage")[-1]
    assert call["ok"] is True and "truncated" in call["notes"]
    assert sandbox.thread("general", posted["ts"])[0]["truncated"] is True


async def test_form_encoded_blocks_are_checked_too(sandbox: Sandbox) -> None:
    blocks = json.dumps([section("x" * 3_001)])
    form = {"token": sandbox.bot_token, "channel": "C0GENERAL", "text": "t", "blocks": blocks}
    async with aiohttp.ClientSession() as http:
        async with http.post(sandbox.api_url + "chat.postMessage", data=form) as resp:
            body = await resp.json()
    assert body == {
        "ok": False,
        "error": "invalid_blocks",
        "response_metadata": {"messages": ["[ERROR] section block 0 text over 3000 characters"]},
    }
