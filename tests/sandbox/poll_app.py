"""A small Bolt app of its own (a poll app, not Teammate) with its own manifest, for tests
that drive the sandbox as another app would: a slash command opens a modal, submitting it
posts a message whose menus and pickers report each choice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox

MANIFEST = {
    "display_information": {"name": "Pollster"},
    "features": {
        "bot_user": {"display_name": "Pollster"},
        "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True},
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
            {
                "type": "input",
                "block_id": "team",
                "optional": True,
                "label": {"type": "plain_text", "text": "Team"},
                "element": {"type": "external_select", "action_id": "find", "min_query_length": 0},
            },
        ],
    }


TEAMS = [
    {"text": {"type": "plain_text", "text": name}, "value": name.lower()}
    for name in ("Design", "Platform")
]


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

        @app.options("find")
        async def teams(ack) -> None:
            await ack(options=TEAMS)

        @app.view_closed("new-poll")
        async def closed(ack, body) -> None:
            await ack()
            self.seen.setdefault("closed", []).append(body)

        @app.action("vote")
        @app.action("more")
        @app.action("when")
        @app.action("who")
        @app.action("refresh")
        async def acted(ack, body, action) -> None:
            await ack()
            self.seen.setdefault(action["action_id"], []).append(body)

        @app.event("app_mention")
        async def mention(event, say) -> None:
            await say(text="Type /poll to start one", thread_ts=event["ts"])


@asynccontextmanager
async def serving_over_http(sandbox: Sandbox, app: AsyncApp) -> AsyncIterator[str]:
    """Serves a Bolt app's /slack/events over HTTP and points the sandbox at it."""

    async def endpoint(req: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(req)))

    server = web.Application()
    server.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sandbox.request_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        yield sandbox.request_url
    finally:
        await sandbox.settle(timeout=2)
        await runner.cleanup()
