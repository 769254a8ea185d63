"""The poll app (tests/sandbox/poll_app.py, a Bolt app that is not Teammate) against the
sandbox, over HTTP and over Socket Mode, with its own manifest: a command opens a modal,
submitting it posts a message, and the choices made on that message arrive as Slack sends
them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from tests.sandbox.poll_app import COLOURS, MANIFEST, PollApp, serving_over_http


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

        async with serving_over_http(sandbox, bot.app):
            yield sandbox, bot


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


async def test_bolts_lazy_modal_pattern_shows_its_modal_and_external_options() -> None:
    """Bolt's modal example: the command acks at once and a lazy listener opens the modal
    (blocks without ids, external selects whose options come from app.options)."""
    manifest = {
        "display_information": {"name": "Example"},
        "features": {"slash_commands": [{"command": "/hello", "description": "Say hello"}]},
    }
    async with Sandbox(manifest=manifest) as sandbox:
        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        app = AsyncApp(client=client, signing_secret=sandbox.signing_secret)
        submitted: list[dict[str, Any]] = []

        async def ack_command(ack) -> None:
            await ack("Thanks!")

        async def open_modal(body, client) -> None:
            external = {"type": "external_select", "action_id": "search", "min_query_length": 0}
            await client.views_open(
                trigger_id=body["trigger_id"],
                view={
                    "type": "modal",
                    "callback_id": "hello-view",
                    "title": {"type": "plain_text", "text": "My App"},
                    "submit": {"type": "plain_text", "text": "Submit"},
                    "blocks": [
                        {
                            "type": "input",
                            "element": {"type": "plain_text_input"},
                            "label": {"type": "plain_text", "text": "Label"},
                        },
                        {
                            "type": "input",
                            "block_id": "pick",
                            "element": external,
                            "label": {"type": "plain_text", "text": "Search"},
                        },
                    ],
                },
            )

        app.command("/hello")(ack=ack_command, lazy=[open_modal])

        @app.options("search")
        async def options(ack) -> None:
            await ack(options=[{"text": {"type": "plain_text", "text": "Maru"}, "value": "maru"}])

        @app.view("hello-view")
        async def done(ack, view) -> None:
            await ack()
            submitted.append(view["state"]["values"])

        async with serving_over_http(sandbox, app):
            ran = await sandbox.run_command("alice", "general", "/hello")
            assert ran["failed"] is False
            assert sandbox.ephemeral("alice")[-1]["text"] == "Thanks!"
            modal = await sandbox.wait_for(lambda: sandbox.modal("alice"))
            assert sandbox.calls("views.open")[-1]["ok"] is True
            first = modal["blocks"][0]
            assert first["block_id"] and first["element"]["action_id"]  # given by Slack

            found = await sandbox.suggest("alice", "search", "ma", view_id=modal["id"])
            (maru,) = found["options"]
            typed = {first["block_id"]: {first["element"]["action_id"]: "hi"}}
            result = await sandbox.submit_view(
                "alice", modal["id"], {**typed, "pick": {"search": maru}}
            )
            assert result["closed"] is True
            (values,) = submitted
            assert values["pick"]["search"]["selected_option"]["value"] == "maru"
            assert values[first["block_id"]][first["element"]["action_id"]]["value"] == "hi"
