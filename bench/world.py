"""The world a bot under load talks to, in its own process: the Slack sandbox and a fake model.

In production Slack and the model provider run on other machines; keeping them out of the
bot's process (and out of the load generator's) keeps their work off the event loop whose ack
latency is measured. The world also prepares what the load generator sends, built with the
sandbox's own payload code so the bodies are exactly Slack's: `app_mention` envelopes for
messages that really exist in the sandbox (so the bot can read their threads) and `/ask`
command forms, each with its own event_id or trigger_id. The sandbox has no request URL here:
only the load generator's requests reach the bot. The world runs at a lower CPU priority
(nice 10), as the remote services it stands in for would not take CPU from the bot.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlencode

from bench.procs import answer_until_stopped
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox, ids, payloads
from bot.sandbox.lookup import require_channel, require_user
from bot.testkit.fakes import FakeAnthropic, Text

PEOPLE = ("alice", "bob", "carol")
CHANNELS = ("general", "random")


def mention_bodies(box: Sandbox, count: int) -> list[bytes]:
    """``count`` app_mention envelopes, each for a new message posted in the sandbox."""
    bodies = []
    for i in range(count):
        person, channel = PEOPLE[i % len(PEOPLE)], CHANNELS[i % len(CHANNELS)]
        text = f"<@{box.bot_user_id}> quick question number {i}?"
        posted = box.post_message(person, channel, text)
        for event_id in posted["event_ids"]:
            envelope = box.envelope(event_id)
            if envelope and envelope["event"]["type"] == "app_mention":
                bodies.append(json.dumps(envelope).encode())
    return bodies


def ask_bodies(box: Sandbox, count: int) -> list[bytes]:
    """``count`` `/ask` command forms with fresh trigger ids and response URLs."""
    bodies = []
    for i in range(count):
        person = require_user(box.ws, PEOPLE[i % len(PEOPLE)])
        room = require_channel(box.ws, CHANNELS[i % len(CHANNELS)])
        hook = box.hooks.create("command", room.id, person.id)
        fields = payloads.command_form(
            ws=box.ws,
            verification_token=box.verification_token,
            user=person,
            channel=room,
            command="/ask",
            text=f"quick question number {i}?",
            response_url=box.hooks.url(hook),
            trigger_id=ids.trigger_id(),
        )
        bodies.append(urlencode(fields).encode())
    return bodies


def stats(box: Sandbox, model: FakeAnthropic) -> dict[str, Any]:
    """What the bot did in this world so far: Web API calls by method, failures, model calls."""
    calls = box.calls()
    return {
        "calls": dict(Counter(c["method"] for c in calls)),
        "failed_calls": dict(Counter(c["error"] for c in calls if not c["ok"])),
        "answers_finished": sum(1 for c in calls if c["method"] == "chat.stopStream" and c["ok"]),
        "model_requests": len(model.requests),
    }


def world_main(conn: Connection, mentions: int, asks: int, answer: str) -> None:
    os.nice(10)
    asyncio.run(_world(conn, mentions, asks, answer))


async def _world(conn: Connection, mentions: int, asks: int, answer: str) -> None:
    async with (
        Sandbox(rate_limits=False, manifest=MANIFEST_PATH) as box,
        FakeAnthropic(default=Text(answer)) as model,
    ):
        ready = {
            "api_url": box.api_url,
            "bot_token": box.bot_token,
            "signing_secret": box.signing_secret,
            "model_url": model.base_url,
            "mentions": mention_bodies(box, mentions),
            "asks": ask_bodies(box, asks),
        }
        await box.settle(10)
        box.calls_log.clear()
        conn.send(ready)

        async def handle(_: Any) -> dict[str, Any]:
            return stats(box, model)

        await answer_until_stopped(conn, handle)
        conn.send(stats(box, model))
