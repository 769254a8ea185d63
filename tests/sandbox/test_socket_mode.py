"""Socket Mode: real slack_sdk and Bolt Socket Mode clients connected to the sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.receiver import Receiver

Listener = Callable[[SocketModeClient, SocketModeRequest], Awaitable[None]]


class Recorder:
    """Keeps every message a client got; acks each request unless told otherwise."""

    def __init__(self, ack: Callable[[SocketModeRequest], bool] = lambda req: True) -> None:
        self.messages: list[dict[str, Any]] = []
        self.requests: list[SocketModeRequest] = []
        self.ack = ack

    async def on_message(self, client: SocketModeClient, message: dict, raw: str | None) -> None:
        self.messages.append(message)

    async def on_request(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        self.requests.append(req)
        if self.ack(req):
            await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))


Connect = Callable[..., Awaitable[SocketModeClient]]


@pytest.fixture
async def connect(sandbox: Sandbox) -> AsyncIterator[Connect]:
    """Opens slack_sdk Socket Mode clients; returns once the sandbox counts the connection."""
    clients: list[SocketModeClient] = []

    async def open_client(recorder: Recorder) -> SocketModeClient:
        client = SocketModeClient(
            app_token=sandbox.app_token, web_client=AsyncWebClient(base_url=sandbox.api_url)
        )
        client.message_listeners.append(recorder.on_message)
        client.socket_mode_request_listeners.append(recorder.on_request)
        clients.append(client)
        before = len(sandbox.socket_connections())
        await client.connect()
        await sandbox.wait_for(lambda: len(sandbox.socket_connections()) > before)
        return client

    yield open_client
    for client in clients:
        await client.close()


async def test_apps_connections_open_takes_only_the_app_token(sandbox: Sandbox) -> None:
    web = AsyncWebClient(base_url=sandbox.api_url)
    opened = await web.apps_connections_open(app_token=sandbox.app_token)
    assert opened["url"].startswith(sandbox.url.replace("http://", "ws://") + "/link/?ticket=")
    refused = []
    for call in (
        web.apps_connections_open(app_token=sandbox.bot_token),
        web.apps_connections_open(app_token="xapp-1-A0OTHER-1-abc"),
        AsyncWebClient(token=sandbox.app_token, base_url=sandbox.api_url).auth_test(),
    ):
        with pytest.raises(SlackApiError) as error:
            await call
        refused.append(error.value.response["error"])
    assert refused == ["not_allowed_token_type", "invalid_auth", "not_allowed_token_type"]


async def test_a_url_is_good_for_one_connection(sandbox: Sandbox) -> None:
    web = AsyncWebClient(base_url=sandbox.api_url)
    url = (await web.apps_connections_open(app_token=sandbox.app_token))["url"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json()
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)
    assert hello["type"] == "hello"


async def test_hello_on_connect(sandbox: Sandbox, connect: Connect) -> None:
    first, second = Recorder(), Recorder()
    await connect(first)
    await sandbox.wait_for(lambda: first.messages)
    hello = first.messages[0]
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": sandbox.app_id}
    assert "host" in hello["debug_info"]
    await connect(second)
    await sandbox.wait_for(lambda: second.messages)
    assert second.messages[0]["num_connections"] == 2
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sandbox.url}/_sandbox/sockets") as response:
            listed = (await response.json())["connections"]
    assert len(listed) == 2 and all(c["sent"] == 0 for c in listed)


async def test_an_event_arrives_as_an_envelope_and_is_acked(
    sandbox: Sandbox, connect: Connect, receiver: Receiver
) -> None:
    bot = Recorder()
    await connect(bot)
    posted = sandbox.post_message("alice", "general", "@teammate over the socket")
    assert await sandbox.settle()
    assert receiver.requests == []  # a connected app gets nothing over HTTP
    by_id = {req.payload["event_id"]: req for req in bot.requests}
    assert set(by_id) == set(posted["event_ids"])
    for event_id, req in by_id.items():
        assert req.type == "events_api"
        assert req.payload == sandbox.envelope(event_id)
        assert req.accepts_response_payload is False
        assert (req.retry_attempt, req.retry_reason) == (0, "")
    attempts = sandbox.deliveries("event")
    assert [(a["transport"], a["outcome"], a["ok"]) for a in attempts] == [
        ("socket", "ok", True)
    ] * 2
    assert {a["envelope_id"] for a in attempts} == {req.envelope_id for req in bot.requests}
    assert sum(c["acked"] for c in sandbox.socket_connections()) == 2


async def test_an_unacked_event_is_retried_with_retry_attempt(
    sandbox: Sandbox, connect: Connect
) -> None:
    sandbox.configure(ack_timeout=0.2)
    bot = Recorder(ack=lambda req: bool(req.retry_attempt))
    await connect(bot)
    posted = sandbox.post_message("bob", "D0BOB", "are you there?")
    assert await sandbox.settle()
    assert [(r.retry_attempt, r.retry_reason) for r in bot.requests] == [
        (0, ""),
        (1, "http_timeout"),
    ]
    assert bot.requests[0].payload == bot.requests[1].payload
    assert bot.requests[0].envelope_id != bot.requests[1].envelope_id
    first, retry = sandbox.deliveries("event", posted["event_ids"][0])
    assert (first["outcome"], first["retry_num"]) == ("timeout", 0)
    assert (retry["outcome"], retry["retry_num"], retry["ok"]) == ("ok", 1, True)


async def test_a_late_ack_is_noted(sandbox: Sandbox, connect: Connect) -> None:
    sandbox.configure(ack_timeout=0.2, retry_schedule=[])
    bot = Recorder(ack=lambda req: False)
    client = await connect(bot)
    posted = sandbox.post_message("bob", "D0BOB", "slow")
    await sandbox.settle()
    (attempt,) = sandbox.deliveries("event", posted["event_ids"][0])
    assert attempt["outcome"] == "timeout" and "late_ack" not in attempt
    await client.send_socket_mode_response(SocketModeResponse(bot.requests[0].envelope_id))
    assert await sandbox.wait_for(lambda: attempt.get("late_ack"))


async def test_a_connection_closing_mid_delivery_is_a_failed_attempt(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    web = AsyncWebClient(base_url=sandbox.api_url)
    url = (await web.apps_connections_open(app_token=sandbox.app_token))["url"]
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(url)
        assert (await ws.receive_json())["type"] == "hello"
        await sandbox.wait_for(sandbox.socket_connections)
        posted = sandbox.post_message("carol", "D0CAROL", "catch this")
        envelope = await ws.receive_json()
        await ws.close()  # the app goes away without acking
    assert await sandbox.settle()
    event_id = posted["event_ids"][0]
    assert envelope["payload"]["event_id"] == event_id
    first, retry = sandbox.deliveries("event", event_id)
    assert (first["transport"], first["outcome"]) == ("socket", "connection_closed")
    # With no socket left, Slack falls back to what else it has: here, the request URL.
    assert (retry["transport"], retry["retry_num"], retry["ok"]) == ("http", 1, True)
    assert receiver.requests[0].retry_num == "1"
    assert json.loads(receiver.requests[0].raw) == envelope["payload"]


async def test_a_socket_app_between_connections_gets_retries(
    sandbox: Sandbox, connect: Connect
) -> None:
    client = await connect(Recorder())
    await client.close()
    await sandbox.wait_for(lambda: not sandbox.socket_connections())
    posted = sandbox.post_message("alice", "D0ALICE", "nobody home")
    assert await sandbox.settle()
    attempts = sandbox.deliveries("event", posted["event_ids"][0])
    assert [a["outcome"] for a in attempts] == ["no_connection"] * 4
    assert [a["retry_num"] for a in attempts] == [0, 1, 2, 3]


async def test_envelopes_take_turns_over_several_connections(
    sandbox: Sandbox, connect: Connect
) -> None:
    one, two = Recorder(), Recorder()
    await connect(one)
    await connect(two)
    for n in range(4):
        sandbox.post_message("alice", "general", f"note {n}")
    assert await sandbox.settle()
    assert len(one.requests) == len(two.requests) == 2
    assert all(a["ok"] for a in sandbox.deliveries())


async def test_disconnect_makes_the_client_reconnect(sandbox: Sandbox, connect: Connect) -> None:
    bot = Recorder()
    await connect(bot)
    (before,) = sandbox.socket_connections()
    assert await sandbox.disconnect_sockets() == 1
    await sandbox.wait_for(
        lambda: [c for c in sandbox.socket_connections() if c["id"] != before["id"]]
    )
    await sandbox.wait_for(lambda: len(sandbox.socket_connections()) == 1)
    sandbox.post_message("alice", "D0ALICE", "still there?")
    assert await sandbox.settle()
    # slack_sdk acts on `disconnect` itself (it never reaches the listeners): a second hello.
    assert [m["type"] for m in bot.messages] == ["hello", "hello", "events_api"]
    assert bot.requests[-1].payload["event"]["text"] == "still there?"


async def test_a_connection_closed_by_slack_is_reopened(sandbox: Sandbox, connect: Connect) -> None:
    bot = Recorder()
    await connect(bot)
    (before,) = sandbox.socket_connections()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sandbox.url}/_sandbox/sockets/close") as response:
            assert response.status == 200
    (after,) = await sandbox.wait_for(
        lambda: [c for c in sandbox.socket_connections() if c["id"] != before["id"]]
    )
    sandbox.post_message("alice", "D0ALICE", "back?")
    assert await sandbox.settle()
    assert sandbox.deliveries("event")[-1]["connection"] == after["id"]


# -- a Bolt app in Socket Mode -----------------------------------------------------------------

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


@pytest.fixture
async def bolt(sandbox: Sandbox) -> AsyncIterator[Sandbox]:
    """A tiny Bolt app connected with AsyncSocketModeHandler, as `teammate run` does."""
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    app = AsyncApp(client=client)

    @app.event("app_mention")
    async def mention(event, say) -> None:
        await say(text="Hello over a socket", blocks=APPROVE, thread_ts=event["ts"])

    @app.event("message")
    async def message() -> None:
        return None

    @app.command("/ask")
    async def ask(ack, command) -> None:
        await ack(f"Thinking about {command['text']}…")

    @app.action("approve")
    async def approve(ack, respond) -> None:
        await ack()
        await respond(replace_original=True, text="Approved")

    handler = AsyncSocketModeHandler(app, sandbox.app_token, web_client=client)
    await handler.connect_async()
    await sandbox.wait_for(sandbox.socket_connections)
    try:
        yield sandbox
    finally:
        await sandbox.settle(timeout=2)
        await handler.close_async()


async def test_bolt_answers_a_mention_and_a_click(bolt: Sandbox) -> None:
    posted = bolt.post_message("alice", "general", "@teammate hi")
    (reply,) = await bolt.wait_for_replies("general", posted["ts"], count=1)
    assert reply["text"] == "Hello over a socket"
    clicked = await bolt.click("alice", "general", reply["ts"], "approve")
    assert clicked["failed"] is False and clicked["outcome"] == "ok"
    await bolt.wait_for(lambda: bolt.replies("general", posted["ts"])[0]["text"] == "Approved")
    assert {a["transport"] for a in bolt.deliveries()} == {"socket"}


async def test_a_slash_commands_ack_payload_is_shown_as_an_ephemeral(bolt: Sandbox) -> None:
    result = await bolt.run_command("bob", "general", "/ask", "life")
    assert result["failed"] is False and result["note"] is None
    (shown,) = bolt.ephemeral("bob", "general")
    assert shown["text"] == "Thinking about life…"
    (attempt,) = bolt.deliveries("command")
    assert attempt["transport"] == "socket" and json.loads(attempt["body"]) == {
        "text": "Thinking about life…"
    }


async def test_an_unanswered_command_tells_the_user(bolt: Sandbox) -> None:
    result = await bolt.run_command("bob", "general", "/nobody-listens")
    assert result["failed"] is True and result["outcome"] == "timeout"
    (shown,) = bolt.ephemeral("bob", "general")
    assert shown["text"] == '/nobody-listens failed with the error "operation_timeout"'


async def test_a_reconnect_after_slacks_disconnect_is_never_rate_limited() -> None:
    """apps.connections.open is Tier 1, but the reconnect Slack asks for is always allowed:
    the app must not be left deaf until the minute is over."""
    async with Sandbox(rate_limits=True, ack_timeout=1.0) as sandbox:
        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        app = AsyncApp(client=client)
        heard: list[str] = []

        @app.event("app_mention")
        async def mention(event) -> None:
            heard.append(event["text"])

        handler = AsyncSocketModeHandler(app, sandbox.app_token, web_client=client)
        await handler.connect_async()
        try:
            for round_ in range(2):
                (before,) = await sandbox.wait_for(sandbox.socket_connections)
                assert await sandbox.disconnect_sockets() == 1
                await sandbox.wait_for(
                    lambda b=before: [c for c in sandbox.socket_connections() if c["id"] != b["id"]]
                )
                sandbox.post_message("alice", "general", f"@teammate round {round_}")
                await sandbox.wait_for(lambda n=round_: len(heard) > n, timeout=5)
            opened = sandbox.calls("apps.connections.open")
            assert len(opened) == 3 and all(c["ok"] for c in opened)
            assert sandbox.ratelimited == 0
        finally:
            await handler.close_async()
