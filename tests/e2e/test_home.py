"""App Home as a person sees it, and events Teammate has nothing to do with acknowledged."""

from __future__ import annotations

import asyncio
import logging

from bot.sandbox import payloads
from bot.testkit.fakes import Text


def home_text(sandbox, user: str) -> str | None:
    view = sandbox.home(user)
    return str(view["blocks"]) if view else None


async def open_home(sandbox, user: str) -> str:
    before = sandbox.home(user)
    sandbox.open_home(user)
    return await sandbox.wait_for(
        lambda: home_text(sandbox, user) if sandbox.home(user) != before else None
    )


async def test_opening_app_home_shows_how_to_ask_the_model_and_recent_threads(stack) -> None:
    box = stack.sandbox
    shown = await open_home(box, "alice")
    assert "Mention me" in shown and "/ask" in shown and "/task <goal>" in shown
    assert "Claude Haiku 4.5" in shown  # the catalog's label of the model that answers
    assert "None yet" in shown

    stack.model.script(Text("Paris."))
    posted = stack.mention("what is the capital of France?")
    await stack.answer("general", posted["ts"])
    general = next(c["id"] for c in box.channels() if c["name"] == "general")
    shown = await open_home(box, "alice")
    assert f"<#{general}>" in shown and "open the thread" in shown
    assert f"/archives/{general}/p{posted['ts'].replace('.', '')}" in shown  # its permalink
    assert "None yet" in await open_home(box, "bob")  # bob's Home lists only his threads


async def test_events_with_nothing_to_do_are_acknowledged_once(stack, caplog) -> None:
    box = stack.sandbox
    caplog.set_level(logging.WARNING)
    general = next(c["id"] for c in box.channels() if c["name"] == "general")
    dm = box.open_home("alice")  # app_home_opened, tab home
    alice = next(u["id"] for u in box.users() if u["name"] == "alice")
    for event in (
        {"type": "app_home_opened", "user": alice, "channel": general, "tab": "messages"},
        {
            "type": "message",
            "subtype": "channel_join",
            "user": alice,
            "channel": general,
            "channel_type": "channel",
            "text": "alice has joined the channel",
            "ts": "1700000000.000100",
        },
    ):
        box.events.send({**event, "event_ts": "1700000000.000200"})
    # An event no listener knows, delivered as Slack would once the manifest subscribes to it.
    unknown = {"type": "reaction_added", "user": alice, "reaction": "tada", "item": {}}
    box.delivery.send_event(payloads.envelope(unknown, box.ws, box.verification_token))
    await box.settle()
    await asyncio.sleep(1.6)  # past the sandbox's retry schedule (0, 0.5, 1.0 s)
    attempts = box.deliveries(kind="event")
    labels = [a["label"] for a in attempts]
    assert len(attempts) == 4 and dm, labels
    assert {a.get("status") for a in attempts} == {200}, attempts
    assert all(not a.get("retry_num") for a in attempts)  # no retries
    assert "Unhandled request" not in caplog.text
