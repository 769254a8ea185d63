"""Signed event delivery to the bot, Slack's event rules, and Slack's retries."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver, Reply


async def test_a_mention_delivers_app_mention_and_message(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    posted = sandbox.post_message("alice", "#general", "@teammate what is up?")
    assert len(posted["event_ids"]) == 2
    assert await sandbox.settle()
    assert all(r.valid for r in receiver.requests)
    mention = receiver.events("app_mention")[0]
    message = receiver.events("message")[0]
    for got in (mention, message):
        assert got.body["team_id"] == "T0SANDBOX"
        assert got.body["api_app_id"] == "A0TEAMMATE"
        assert got.body["authorizations"][0]["user_id"] == "U0TEAMMATE"
        assert got.body["event_id"].startswith("Ev")
        assert got.event["text"] == "<@U0TEAMMATE> what is up?"
        assert got.event["user"] == "U0ALICE"
        assert got.event["ts"] == posted["ts"]
    assert message.event["channel_type"] == "channel"
    assert {mention.body["event_id"], message.body["event_id"]} == set(posted["event_ids"])


async def test_thread_replies_and_dms_are_message_events(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    parent = sandbox.post_message("bob", "general", "plain talk")
    sandbox.post_message("carol", "general", "in thread", thread_ts=parent["ts"])
    sandbox.post_message("bob", "D0BOB", "hi in a DM")
    await sandbox.settle()
    events = [r.event for r in receiver.events("message")]
    assert [e["text"] for e in events[:3]] == ["plain talk", "in thread", "hi in a DM"]
    assert events[1]["thread_ts"] == parent["ts"]
    assert events[2]["channel_type"] == "im"
    assert receiver.events("app_mention") == []


async def test_no_events_from_a_channel_without_the_bot(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    posted = sandbox.post_message("alice", "private-ops", "@teammate are you here?")
    assert posted["event_ids"] == []
    await sandbox.settle()
    assert receiver.requests == []


async def test_the_bots_own_posts_come_back_with_bot_id(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C0GENERAL", text="I said this")
    await sandbox.settle()
    own = receiver.events("message")[0].event
    assert own["bot_id"] == "B0TEAMMATE" and own["user"] == "U0TEAMMATE"

    sandbox.configure(bot_events=False)
    await client.chat_postMessage(channel="C0GENERAL", text="quietly")
    await sandbox.settle()
    assert len(receiver.events("message")) == 1


async def test_edits_and_deletions(sandbox: Sandbox, receiver: Receiver) -> None:
    posted = sandbox.post_message("alice", "general", "tpyo")
    sandbox.edit_message("general", posted["ts"], "typo")
    sandbox.delete_message("general", posted["ts"])
    await sandbox.settle()
    subtypes = [r.event.get("subtype") for r in receiver.events("message")]
    assert subtypes == [None, "message_changed", "message_deleted"]
    changed = receiver.events("message")[1].event
    assert changed["message"]["text"] == "typo"
    assert changed["previous_message"]["text"] == "tpyo"
    assert receiver.events("message")[2].event["deleted_ts"] == posted["ts"]


async def test_error_status_is_retried_with_retry_headers(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.answer = lambda got: Reply(status=500)
    posted = sandbox.post_message("alice", "general", "hello?")
    await sandbox.settle()
    got = receiver.requests
    assert [r.retry_num for r in got] == [None, "1", "2", "3"]
    assert {r.headers.get("X-Slack-Retry-Reason") for r in got[1:]} == {"http_error"}
    assert len({r.raw for r in got}) == 1
    attempts = sandbox.deliveries("event", posted["event_ids"][0])
    assert [a["retry_num"] for a in attempts] == [0, 1, 2, 3]
    assert all(a["status"] == 500 and a["outcome"] == "http_error" for a in attempts)


async def test_a_slow_ack_is_retried_as_http_timeout(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.configure(ack_timeout=0.2)
    receiver.answer = lambda got: Reply(delay=0.4) if got.retry_num is None else Reply()
    posted = sandbox.post_message("bob", "general", "anyone?")
    await sandbox.settle()
    assert [r.retry_num for r in receiver.requests] == [None, "1"]
    assert receiver.requests[1].headers["X-Slack-Retry-Reason"] == "http_timeout"
    first, retry = sandbox.deliveries("event", posted["event_ids"][0])
    assert first["outcome"] == "timeout" and first["late_status"] == 200
    assert retry["ok"] is True


async def test_no_retry_header_stops_retries(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answer = lambda got: Reply(status=500, headers={"X-Slack-No-Retry": "1"})
    sandbox.post_message("carol", "general", "once")
    await sandbox.settle()
    assert len(receiver.requests) == 1


async def test_redeliver_a_stored_event_as_a_retry(sandbox: Sandbox, receiver: Receiver) -> None:
    posted = sandbox.post_message("alice", "D0ALICE", "deliver me twice")
    await sandbox.settle()
    event_id = posted["event_ids"][0]
    attempt = await sandbox.redeliver(event_id, retry_num=2)
    assert attempt["ok"] is True and attempt["retry_num"] == 2
    first, again = receiver.requests
    assert again.raw == first.raw and again.body["event_id"] == event_id
    assert again.headers["X-Slack-Retry-Num"] == "2"
    assert again.headers["X-Slack-Retry-Reason"] == "http_timeout"


async def test_pause_holds_deliveries_until_resume(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.pause_delivery()
    sandbox.post_message("alice", "general", "held")
    assert not await sandbox.settle(timeout=0.1)
    assert receiver.requests == []
    sandbox.resume_delivery()
    assert await sandbox.settle()
    assert len(receiver.requests) == 1


async def test_an_unreachable_bot_is_retried_then_given_up(sandbox: Sandbox) -> None:
    sandbox.request_url = "http://127.0.0.1:9/slack/events"
    posted = sandbox.post_message("alice", "D0ALICE", "anyone home?")
    await sandbox.settle()
    attempts = sandbox.deliveries("event", posted["event_ids"][0])
    assert [a["outcome"] for a in attempts] == ["connection_error"] * 4
    assert [a["retry_reason"] for a in attempts] == [None, "http_error", "http_error", "http_error"]
