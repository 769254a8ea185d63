"""The Web API through slack_sdk's own AsyncWebClient, as the bot will call it."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


async def test_auth_test_describes_the_bot(client: AsyncWebClient, sandbox: Sandbox) -> None:
    result = await client.auth_test()
    assert result["user_id"] == sandbox.bot_user_id == "U0TEAMMATE"
    assert result["bot_id"] == "B0TEAMMATE"
    assert result["team_id"] == "T0SANDBOX"
    assert result["team"] == "Sandbox"
    assert result["url"].startswith(sandbox.url)


async def test_tokens_and_unknown_methods(sandbox: Sandbox) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url)
    nobody = AsyncWebClient(base_url=sandbox.api_url)
    right = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    assert await error_of(wrong.auth_test()) == "invalid_auth"
    assert await error_of(nobody.auth_test()) == "not_authed"
    assert await error_of(right.api_call("nope.nothing")) == "unknown_method"
    calls = sandbox.calls("auth.test")
    assert [c["error"] for c in calls] == ["invalid_auth", "not_authed"]
    assert all("token" not in c["args"] for c in sandbox.calls())


async def test_form_body_and_token_param(sandbox: Sandbox) -> None:
    form = {"token": sandbox.bot_token, "channel": "C0GENERAL", "text": "from a form"}
    async with aiohttp.ClientSession() as http:
        async with http.post(sandbox.api_url + "chat.postMessage", data=form) as resp:
            assert resp.status == 200
            body = await resp.json()
    assert body["ok"] is True
    assert body["message"]["text"] == "from a form"
    assert body["message"]["bot_id"] == sandbox.bot_id


async def test_post_and_read_a_thread_with_pagination(
    client: AsyncWebClient, sandbox: Sandbox
) -> None:
    parent = sandbox.post_message("alice", "general", "question?")
    posted = []
    for n in range(5):
        reply = await client.chat_postMessage(
            channel="C0GENERAL", thread_ts=parent["ts"], text=f"part {n}"
        )
        assert reply["channel"] == "C0GENERAL"
        assert reply["message"]["thread_ts"] == parent["ts"]
        posted.append(reply["ts"])
    assert posted == sorted(posted) and len(set(posted)) == 5

    seen, cursor = [], None
    while True:
        page = await client.conversations_replies(
            channel="C0GENERAL", ts=parent["ts"], limit=2, cursor=cursor
        )
        seen.extend(page["messages"])
        if not page["has_more"]:
            break
        cursor = page["response_metadata"]["next_cursor"]
    assert [m["text"] for m in seen] == ["question?"] + [f"part {n}" for n in range(5)]
    assert seen[0]["user"] == "U0ALICE" and seen[0]["reply_count"] == 5
    assert all(m["bot_id"] == "B0TEAMMATE" for m in seen[1:])
    assert all(m["thread_ts"] == parent["ts"] for m in seen)


async def test_history_is_newest_first_and_pages(client: AsyncWebClient, sandbox: Sandbox) -> None:
    for n in range(4):
        sandbox.post_message("bob", "random", f"msg {n}")
    first = await client.conversations_history(channel="C0RANDOM", limit=3)
    assert [m["text"] for m in first["messages"]] == ["msg 3", "msg 2", "msg 1"]
    assert first["has_more"] is True
    rest = await client.conversations_history(
        channel="C0RANDOM", limit=3, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in rest["messages"]] == ["msg 0"]
    assert rest["has_more"] is False


async def test_channel_errors(client: AsyncWebClient) -> None:
    assert await error_of(client.chat_postMessage(channel="C0NOBOT", text="hi")) == (
        "not_in_channel"
    )
    assert await error_of(client.chat_postMessage(channel="C0MISSING", text="hi")) == (
        "channel_not_found"
    )
    no_text = client.api_call("chat.postMessage", json={"channel": "C0GENERAL"})
    assert await error_of(no_text) == "no_text"


async def test_update_delete_and_ephemeral(client: AsyncWebClient, sandbox: Sandbox) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="draft")
    updated = await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="final")
    assert updated["text"] == "final"
    view = sandbox.thread("general", posted["ts"])[0]
    assert view["text"] == "final" and view["edited"]["user"] == "U0TEAMMATE"

    person = sandbox.post_message("alice", "general", "mine")
    assert await error_of(client.chat_update(channel="C0GENERAL", ts=person["ts"], text="x")) == (
        "cant_update_message"
    )
    assert await error_of(client.chat_update(channel="C0GENERAL", ts="1.000001", text="x")) == (
        "message_not_found"
    )

    note = await client.chat_postEphemeral(channel="C0GENERAL", user="U0BOB", text="psst")
    assert [e["text"] for e in sandbox.ephemeral("bob")] == ["psst"]
    assert sandbox.ephemeral("bob")[0]["ts"] == note["message_ts"]
    assert sandbox.ephemeral("alice") == []

    await client.chat_delete(channel="C0GENERAL", ts=posted["ts"])
    assert sandbox.thread("general", posted["ts"]) == []


async def test_conversations_users_and_reactions(client: AsyncWebClient, sandbox: Sandbox) -> None:
    opened = await client.conversations_open(users="U0ALICE")
    assert opened["channel"]["id"] == "D0ALICE"
    info = await client.conversations_info(channel="C0GENERAL")
    assert info["channel"]["name"] == "general" and info["channel"]["is_member"] is True
    members = await client.conversations_members(channel="C0GENERAL")
    assert "U0TEAMMATE" in members["members"] and "U0ALICE" in members["members"]
    user = await client.users_info(user="U0ALICE")
    assert user["user"]["real_name"] == "Alice Archer"
    assert user["user"]["profile"]["display_name"] == "Alice"
    assert await error_of(client.users_info(user="U0NOONE")) == "user_not_found"

    posted = sandbox.post_message("carol", "general", "nice")
    await client.reactions_add(channel="C0GENERAL", timestamp=posted["ts"], name="eyes")
    assert sandbox.thread("general", posted["ts"])[0]["reactions"][0]["name"] == "eyes"


async def test_views_publish_is_kept_per_user(client: AsyncWebClient, sandbox: Sandbox) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    result = await client.views_publish(user_id="U0BOB", view=view)
    assert result["view"]["id"].startswith("V")
    assert sandbox.home("bob")["blocks"][0]["text"] == view["blocks"][0]["text"]
    assert sandbox.home("bob")["blocks"][0]["block_id"]  # Slack gives each block an id
    assert sandbox.home("alice") is None


async def test_apps_connections_open_takes_only_the_app_token(client, sandbox) -> None:
    assert await error_of(client.apps_connections_open(app_token="xapp-1")) == "invalid_auth"
    assert await error_of(client.apps_connections_open(app_token=sandbox.bot_token)) == (
        "not_allowed_token_type"
    )


async def test_a_stalled_method_hangs_and_is_never_carried_out(
    client: AsyncWebClient, sandbox: Sandbox
) -> None:
    sandbox.configure(stalled_methods=["chat.postMessage"])
    posting = asyncio.ensure_future(client.chat_postMessage(channel="general", text="lost"))
    await client.auth_test()  # other methods answer meanwhile
    assert not posting.done()
    sandbox.configure(stalled_methods=[])
    assert await error_of(posting) == "request_timeout"
    assert not sandbox.channel_messages("general")
    await client.chat_postMessage(channel="general", text="kept")
    assert [m["text"] for m in sandbox.channel_messages("general")] == ["kept"]
