"""Handlers run under their request's claim, exactly once, and cannot get around it.

A real Bolt app dispatches real requests (no HTTP needed here: Bolt's own dispatch) through the
claim middleware and the Listeners wrapper, with claims in the real database.
"""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.core.store import ClaimStore
from bot.slack.dedupe import claim_middleware
from bot.slack.exactly_once import Listeners, Work
from bot.slack.work import WorkTracker

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


async def _authorize(**_: object) -> AuthorizeResult:
    return AuthorizeResult(
        enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="U0BOT", bot_id="B0"
    )


def _mention(event_id: str) -> AsyncBoltRequest:
    body = {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": event_id,
        "event": {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.1"},
    }
    return AsyncBoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})


@pytest.fixture
async def wired(db):
    claims = ClaimStore(db, "replica-a", lease_seconds=30)
    tracker = WorkTracker()
    app = AsyncApp(authorize=_authorize, request_verification_enabled=False)
    app.use(claim_middleware(claims))
    yield app, claims, Listeners(app, claims, tracker, provides={"greeting": "hello"}), tracker
    await claims.close()


async def _settle(tracker: WorkTracker) -> None:
    await asyncio.sleep(0.05)  # Bolt starts listeners in the background
    assert await tracker.drain(10)
    tracker.accepting = True


async def test_a_handler_runs_once_per_event_and_its_claim_is_then_done(wired) -> None:
    app, claims, on, tracker = wired
    seen: list[tuple[str, str]] = []

    async def on_mention(work: Work, event: dict, greeting: str) -> None:
        seen.append((work.claim.key, f"{greeting} {event['user']}"))

    on.event("app_mention")(on_mention)
    responses = [await app.async_dispatch(_mention("Ev1")) for _ in range(3)]
    await _settle(tracker)
    assert [r.status for r in responses] == [200, 200, 200]
    assert seen == [("event:Ev1", "hello U1")]
    assert await claims.state("event:Ev1") == "done"


async def test_a_handler_that_raises_leaves_its_claim_for_a_retry(wired) -> None:
    app, claims, on, tracker = wired

    async def on_mention() -> None:
        raise RuntimeError("boom")

    on.event("app_mention")(on_mention)
    await app.async_dispatch(_mention("Ev2"))
    await _settle(tracker)
    assert await claims.state("event:Ev2") == "running"  # its lease runs out; a retry takes it


def test_handlers_register_only_through_listeners() -> None:
    """No handler module calls the Bolt app's registration methods itself."""
    direct = {"event", "command", "action", "message", "view", "shortcut", "assistant", "use"}
    offenders = []
    for path in sorted(HANDLERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in direct
                and isinstance(node.value, ast.Name)
                and node.value.id == "app"
            ):
                offenders.append(f"{path.name}:{node.lineno} app.{node.attr}")
    assert offenders == []


def _submission(trigger: str, note: str) -> AsyncBoltRequest:
    payload = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "trigger_id": trigger,
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "edit_note",
            "state": {"values": {"note": {"text": {"type": "plain_text_input", "value": note}}}},
        },
    }
    return AsyncBoltRequest(
        body=urlencode({"payload": json.dumps(payload)}),
        headers={"content-type": ["application/x-www-form-urlencoded"]},
    )


async def test_a_modal_submission_runs_once_and_its_ack_can_keep_the_modal_open(wired) -> None:
    app, claims, on, tracker = wired
    saved: list[str] = []

    async def check(view: dict) -> dict | None:
        note = view["state"]["values"]["note"]["text"]["value"]
        if not note.strip():
            return {"response_action": "errors", "errors": {"note": "Write something first."}}
        return None

    async def save(work: Work, view: dict) -> None:
        saved.append(view["state"]["values"]["note"]["text"]["value"])

    on.view("edit_note", ack=check)(save)
    empty = await app.async_dispatch(_submission("Tr1", "  "))
    assert json.loads(empty.body) == {
        "response_action": "errors",
        "errors": {"note": "Write something first."},
    }
    twice = [await app.async_dispatch(_submission("Tr2", "Deploys on Tuesdays")) for _ in range(2)]
    await _settle(tracker)
    assert [r.status for r in twice] == [200, 200] and twice[0].body == ""
    assert saved == ["Deploys on Tuesdays"]  # the refused one submitted nothing
    assert await claims.state("view:Tr2") == "done"


def _command(text: str, trigger: str) -> AsyncBoltRequest:
    body = {
        "command": "/teammate",
        "text": text,
        "team_id": "T1",
        "user_id": "U1",
        "channel_id": "C1",
        "trigger_id": trigger,
    }
    return AsyncBoltRequest(
        body=urlencode(body), headers={"content-type": ["application/x-www-form-urlencoded"]}
    )


async def test_a_subcommand_goes_to_its_own_handler_and_the_rest_to_the_catch_all(wired) -> None:
    app, claims, on, tracker = wired
    seen: list[str] = []

    async def memory(command: dict) -> None:
        seen.append(f"memory: {command['text']}")

    async def help_text(command: dict) -> None:
        seen.append(f"help: {command['text']}")

    on.command("/teammate", subcommand="memory")(memory)
    on.command("/teammate")(help_text)
    for number, text in enumerate(["memory", "memory clear", "memorize", "", "help"]):
        await app.async_dispatch(_command(text, f"Tr{number}"))
    await _settle(tracker)
    assert sorted(seen) == [
        "help: ",
        "help: help",
        "help: memorize",
        "memory: memory",
        "memory: memory clear",
    ]
