"""A small Bolt app of its own (a poll app, not Teammate) against the sandbox, over HTTP and
over Socket Mode, with its own manifest: a command opens a modal, submitting it posts a
message, and the choices made on that message arrive as Slack sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox

MANIFEST = {
    "display_information": {"name": "Pollster"},
    "features": {
        "bot_user": {"display_name": "Pollster"},
        "slash_commands": [
            {"command": "/poll", "description": "Start a poll", "usage_hint": "[topic]"}
        ],
    },
    "oauth_config": {"scopes": {"bot": ["app_mentions:read", "chat:write", "commands"]}},
    "settings": {"event_subscriptions": {"bot_events": ["app_mention"]}},
}

COLOURS = [
    {"text": {"type": "plain_text", "text": name.title()}, "value": name}
    for name in ("red", "green", "blue")
]


def poll_modal(channel: str, topic: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "new-poll",
        "private_metadata": channel,
        "notify_on_close": True,
        "title": {"type": "plain_text", "text": "New poll"},
        "submit": {"type": "plain_text", "text": "Start"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "question",
                "label": {"type": "plain_text", "text": "Question"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "initial_value": topic,
                },
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Answers"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Colours"}, "value": "colours"},
                        {"text": {"type": "plain_text", "text": "Yes or no"}, "value": "yes-no"},
                    ],
                },
            },
        ],
    }


def poll_message(question: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "block_id": "head",
            "text": {"type": "mrkdwn", "text": f"*{question}*"},
            "accessory": {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Close poll"}, "value": "close"}
                ],
            },
        },
        {
            "type": "actions",
            "block_id": "ballot",
            "elements": [
                {"type": "static_select", "action_id": "vote", "options": COLOURS},
                {"type": "datepicker", "action_id": "when", "initial_date": "2026-12-24"},
                {"type": "users_select", "action_id": "who"},
            ],
        },
    ]


class PollApp:
    """The Bolt app, and what its listeners saw."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        self.seen: dict[str, list[dict[str, Any]]] = {}
        app = AsyncApp(client=self.client, signing_secret=sandbox.signing_secret)
        self.app = app

        @app.command("/poll")
        async def poll(ack, body, client) -> None:
            await ack()
            await client.views_open(
                trigger_id=body["trigger_id"], view=poll_modal(body["channel_id"], body["text"])
            )

        @app.view("new-poll")
        async def submitted(ack, body, view, client) -> None:
            self.seen.setdefault("submission", []).append(body)
            values = view["state"]["values"]
            question = values["question"]["text"]["value"] or ""
            if not question.endswith("?"):
                await ack(response_action="errors", errors={"question": "Ask a question"})
                return
            await ack()
            kind = values["kind"]["pick"]["selected_option"]["value"]
            await client.chat_postMessage(
                channel=view["private_metadata"],
                text=f"Poll by <@{body['user']['id']}>: {question} ({kind})",
                blocks=poll_message(question),
            )

        @app.view_closed("new-poll")
        async def closed(ack, body) -> None:
            await ack()
            self.seen.setdefault("closed", []).append(body)

        @app.action("vote")
        @app.action("more")
        @app.action("when")
        @app.action("who")
        async def acted(ack, body, action) -> None:
            await ack()
            self.seen.setdefault(action["action_id"], []).append(body)

        @app.event("app_mention")
        async def mention(event, say) -> None:
            await say(text="Type /poll to start one", thread_ts=event["ts"])


@pytest.fixture(params=["http", "socket"])
async def poll(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Sandbox, PollApp]]:
    async with Sandbox(retry_schedule=(0, 0.05, 0.1), manifest=MANIFEST) as sandbox:
        bot = PollApp(sandbox)
        if request.param == "socket":
            handler = AsyncSocketModeHandler(bot.app, sandbox.app_token, web_client=bot.client)
            await handler.connect_async()
            await sandbox.wait_for(sandbox.socket_connections)
            try:
                yield sandbox, bot
            finally:
                await sandbox.settle(timeout=2)
                await handler.close_async()
            return

        async def endpoint(req: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bot.app.async_dispatch(await to_bolt_request(req))
            )

        server = web.Application()
        server.router.add_post("/slack/events", endpoint)
        runner = web.AppRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        sandbox.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
        try:
            yield sandbox, bot
        finally:
            await sandbox.settle(timeout=2)
            await runner.cleanup()


async def open_poll(sandbox: Sandbox, topic: str = "Lunch?") -> dict[str, Any]:
    ran = await sandbox.run_command("alice", "general", "/poll", topic)
    assert ran["failed"] is False and ran["note"] is None
    return await sandbox.wait_for(lambda: sandbox.modal("alice"))


async def test_a_command_opens_a_modal_and_submitting_it_posts_a_message(poll) -> None:
    sandbox, bot = poll
    modal = await open_poll(sandbox, "Which colour for the logo?")
    assert modal["title"]["text"] == "New poll" and modal["callback_id"] == "new-poll"
    assert modal["state"]["values"]["question"]["text"] == {
        "type": "plain_text_input",
        "value": "Which colour for the logo?",
    }

    result = await sandbox.submit_view(
        "alice", modal["id"], {"kind": {"pick": "colours"}, "question": {"text": "Logo colour?"}}
    )
    assert result["failed"] is False and result["closed"] is True
    assert sandbox.modal("alice") is None
    (body,) = bot.seen["submission"]
    assert body["type"] == "view_submission" and body["user"]["id"] == "U0ALICE"
    assert body["view"]["private_metadata"] == "C0GENERAL"
    assert body["view"]["state"]["values"]["kind"]["pick"] == {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "Colours"}, "value": "colours"},
    }
    posted = await sandbox.wait_for(lambda: sandbox.channel_messages("general"))
    assert posted[-1]["text"] == "Poll by <@U0ALICE>: Logo colour? (colours)"
    transports = {d["transport"] for d in sandbox.deliveries()}
    assert len(transports) == 1


async def test_an_errors_answer_keeps_the_modal_open_with_the_message(poll) -> None:
    sandbox, bot = poll
    modal = await open_poll(sandbox, "no question mark")
    result = await sandbox.submit_view("alice", modal["id"], {"kind": {"pick": "yes-no"}})
    assert result["response_action"] == "errors" and result["closed"] is False
    assert result["errors"] == {"question": "Ask a question"}
    still = sandbox.modal("alice")
    assert still["id"] == modal["id"] and still["errors"] == {"question": "Ask a question"}
    assert sandbox.channel_messages("general") == []


async def test_a_required_input_left_empty_is_never_sent(poll) -> None:
    sandbox, bot = poll
    modal = await open_poll(sandbox, "Lunch?")
    result = await sandbox.submit_view("alice", modal["id"])  # "Answers" not picked
    assert result["delivered"] is False and result["errors"] == {"kind": "This field is required"}
    assert "submission" not in bot.seen


async def test_cancel_sends_view_closed(poll) -> None:
    sandbox, bot = poll
    modal = await open_poll(sandbox)
    closed = await sandbox.close_view("alice", modal["id"])
    assert closed["closed"] == [modal["id"]] and sandbox.modal("alice") is None
    await sandbox.wait_for(lambda: bot.seen.get("closed"))
    (body,) = bot.seen["closed"]
    assert body["type"] == "view_closed" and body["is_cleared"] is False
    assert body["view"]["id"] == modal["id"]


async def test_choices_on_the_message_arrive_as_slack_sends_them(poll) -> None:
    sandbox, bot = poll
    modal = await open_poll(sandbox)
    await sandbox.submit_view(
        "alice", modal["id"], {"kind": {"pick": "colours"}, "question": {"text": "Colour?"}}
    )
    (message,) = await sandbox.wait_for(lambda: sandbox.channel_messages("general"))

    voted = await sandbox.click("bob", "general", message["ts"], "vote", "blue")
    assert voted["failed"] is False
    (body,) = bot.seen["vote"]
    (action,) = body["actions"]
    assert action["type"] == "static_select" and "value" not in action
    assert action["selected_option"] == COLOURS[2]
    assert body["state"]["values"]["ballot"]["vote"] == {
        "type": "static_select",
        "selected_option": COLOURS[2],
    }
    assert body["state"]["values"]["ballot"]["when"] == {
        "type": "datepicker",
        "selected_date": "2026-12-24",
    }

    await sandbox.click("bob", "general", message["ts"], "when", "2027-01-05")
    (when,) = bot.seen["when"]
    assert when["actions"][0]["selected_date"] == "2027-01-05"
    assert when["state"]["values"]["ballot"]["vote"]["selected_option"] == COLOURS[2]

    await sandbox.click("bob", "general", message["ts"], "who", "U0CAROL")
    assert bot.seen["who"][0]["actions"][0]["selected_user"] == "U0CAROL"

    await sandbox.click("bob", "general", message["ts"], "more", "close")
    (more,) = bot.seen["more"]
    assert more["actions"][0]["selected_option"]["value"] == "close"


async def test_the_manifest_decides_events_commands_and_name(poll) -> None:
    sandbox, bot = poll
    assert (await bot.client.auth_test())["user"] == "pollster"
    assert sandbox.users()[0]["real_name"] == "Pollster"

    sandbox.post_message("bob", "general", "just chatting")  # message.channels not subscribed
    mentioned = sandbox.post_message("bob", "general", "@pollster help")
    await sandbox.wait_for_replies("general", mentioned["ts"], count=1)
    await sandbox.settle()
    assert [d["label"] for d in sandbox.deliveries("event")] == ["app_mention"]

    refused = await sandbox.run_command("bob", "general", "/ask", "anything")
    assert refused["failed"] is True and refused["status"] is None
    assert refused["note"].startswith("/ask is not a valid command.")
    assert sandbox.deliveries("command") == []
    assert sandbox.ephemeral("bob", "general")[-1]["author"] == "USLACKBOT"

    sandbox.open_home("bob")  # app_home_opened not subscribed
    await sandbox.settle()
    assert [d["label"] for d in sandbox.deliveries("event")] == ["app_mention"]
