"""Recurring tasks over real HTTP: `/task every ...` answers with the schedule's id, rule, time
zone and next run; each slot posts a task card in the channel with its report in the thread,
once, across a SIGKILL and a restart; `/task schedules` lists them and `/task cancel ID` stops
them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from bot.core.store import ClaimStore, Database
from bot.core.store.schedules import ScheduleStore
from bot.slack import marks
from bot.slack.scheduler import ENDED_UNNOTED, claim_key
from bot.testkit.fakes.script import Dynamic, Text
from bot.testkit.processes import free_port, serving, start_serve
from bot.testkit.stack import bot_environment
from tests.conftest import postgres_database

GOAL = "check the deploy queue"
QUIET = {"schedule_tick": 3600.0}
"""The loop ticks once at start only: the test drives the slots with ``tick(now=...)``."""


async def said(sandbox, user: str, text: str) -> str:
    """What `/task text` tells ``user`` alone (in the acknowledgement or a later note)."""
    before = len(sandbox.ephemeral(user, "general"))
    result = await sandbox.run_command(user, "general", "/task", text)
    assert result["status"] == 200 and not result["failed"], result
    notes = await sandbox.wait_for(lambda: sandbox.ephemeral(user, "general")[before:] or None, 30)
    return notes[-1]["text"]


async def scheduled(sandbox, text: str, user: str = "alice") -> tuple[str, str]:
    """Make a schedule with `/task text`: its id, and what its creator was told."""
    reply = await said(sandbox, user, text)
    found = re.match(r"Schedule `(\w{7})`", reply)
    assert found is not None, reply
    return found.group(1), reply


def cards(sandbox) -> list[dict]:
    """The task cards in #general, oldest first."""
    return [
        m
        for m in sandbox.channel_messages("general")
        if m.get("bot_id") and re.search(r"Task `\w{6}`", m["text"]) and GOAL in m["text"]
    ]


def reported(sandbox, card: dict) -> bool:
    """Whether the card's thread has the closing line for the requester."""
    short_id = re.search(r"Task `(\w{6})`", card["text"]).group(1)  # type: ignore[union-attr]
    replies = sandbox.replies("general", card["ts"], from_bot=True)
    return any(r["text"].startswith(f"<@U0ALICE> task `{short_id}` is done.") for r in replies)


async def runs_reported(sandbox, count: int, within: float) -> list[dict]:
    """The cards once ``count`` runs have posted theirs and reported in the thread."""

    def done() -> list[dict] | None:
        shown = cards(sandbox)
        return shown if len(shown) >= count and all(reported(sandbox, c) for c in shown) else None

    return await sandbox.wait_for(done, within)


@pytest.mark.parametrize("bot_options", [QUIET])
async def test_a_schedule_runs_its_slot_as_a_task_then_is_listed_and_cancelled(stack) -> None:
    sandbox, runtime = stack.sandbox, stack.runtime
    stack.model.script(Text("Queue is empty. Sources: the deploy dashboard."))
    short_id, reply = await scheduled(sandbox, f"every 1m {GOAL}")
    # Alice's own time zone in Slack: the workspace has none of its own.
    assert f"Schedule `{short_id}`: every minute, {GOAL}" in reply
    assert re.search(r"Next run \w{3} \d+ \w{3} \d\d:\d\d America/New_York", reply), reply
    store = runtime.scheduler.store  # type: ignore[union-attr]
    schedule = await store.get(short_id)
    assert schedule is not None and schedule.tz == "America/New_York"

    [run] = await runtime.scheduler.tick(now=schedule.next_at)  # type: ignore[union-attr]
    await run
    [card] = await runs_reported(sandbox, 1, 30)
    assert "✅ Done" in card["text"]
    assert "Queue is empty" in sandbox.replies("general", card["ts"], from_bot=True)[0]["text"]
    assert [r.slot for r in await store.runs(schedule.id)] == [int(schedule.next_at)]
    assert [r.state for r in await store.runs(schedule.id)] == ["done"]

    listed = await said(sandbox, "alice", "schedules")
    assert f"`{short_id}` every minute · next " in listed and GOAL in listed
    assert "Only <@U0ALICE> or an admin" in await said(sandbox, "bob", f"cancel {short_id}")
    assert "is cancelled: it runs no more" in await said(sandbox, "alice", f"cancel {short_id}")
    assert "No schedules in this channel" in await said(sandbox, "alice", "schedules")
    # The next slot comes and nothing runs.
    moved = await store.get(short_id)
    assert await runtime.scheduler.tick(now=moved.next_at + 1) == []  # type: ignore[union-attr]
    assert len(await store.runs(schedule.id)) == 1 and len(cards(sandbox)) == 1
    assert len(stack.model.requests) == 1
    # Task ids still cancel tasks.
    assert "There is no task `zzzzzz`" in await said(sandbox, "alice", "cancel zzzzzz")


@pytest.mark.parametrize("bot_options", [{**QUIET, "durable_answers": True}])
async def test_a_slot_runs_as_a_durable_answer_when_answers_are(stack) -> None:
    assert stack.runtime.services.durable is not None
    stack.model.script(Text("Queue is empty."))
    short_id, _ = await scheduled(stack.sandbox, f"every 2h {GOAL}")
    scheduler = stack.runtime.scheduler
    schedule = await scheduler.store.get(short_id)  # type: ignore[union-attr]
    [run] = await scheduler.tick(now=schedule.next_at)  # type: ignore[union-attr]
    await run
    [card] = await runs_reported(stack.sandbox, 1, 30)
    assert "✅ Done" in card["text"]
    [recorded] = await scheduler.store.runs(schedule.id)  # type: ignore[union-attr]
    assert recorded.state == "done"


@pytest.mark.parametrize("bot_options", [{**QUIET, "timezone": "Europe/Berlin"}])
async def test_the_configured_time_zone_and_bad_rules(stack) -> None:
    sandbox = stack.sandbox
    _, reply = await scheduled(sandbox, f"every Monday 09:00 --minutes 5 {GOAL}")
    assert f"every Monday 09:00 Europe/Berlin, --minutes 5 {GOAL}" in reply
    assert re.search(r"Next run Mon \d+ \w{3} 09:00 Europe/Berlin", reply), reply
    assert "at most once a minute" in await said(sandbox, "alice", "every 30s go")
    assert "HH:MM" in await said(sandbox, "alice", "every friday go")
    over = await said(sandbox, "alice", "every 1d --tokens 9999999 go")
    assert "at most 2,000,000 tokens" in over
    result = await sandbox.run_command("alice", "private-ops", "/task", f"every 1d {GOAL}")
    assert result["status"] == 200
    [note] = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "private-ops") or None)
    assert note["text"].startswith("I'm not in this channel yet")
    assert "No schedules" not in await said(sandbox, "alice", "schedules")
    assert len(await stack.runtime.scheduler.store.listed("C0GENERAL")) == 1  # type: ignore[union-attr]


def schedule_environment(sandbox, model, tmp_path, **changes: str) -> dict[str, str]:
    return {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_SCHEDULE_TICK": "1",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
        **changes,
    }


async def runs_in_store(url: str, short_id: str) -> list:
    db = Database(url)
    try:
        store = ScheduleStore(db)
        schedule = await store.get(short_id)
        assert schedule is not None
        return await store.runs(schedule.id)
    finally:
        await db.close()


async def recorded_done(url: str, short_id: str, count: int, within: float = 30.0) -> None:
    """Wait until the store shows ``count`` runs of the schedule done."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if sum(r.state == "done" for r in await runs_in_store(url, short_id)) >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the store shows fewer than {count} runs done")


async def serve_on_sqlite(
    sandbox, model, tmp_path, env: dict[str, str]
) -> tuple[int, Path, str, subprocess.Popen[bytes]]:
    """`teammate serve` on its SQLite database, the model scripted for five runs: its port,
    log, database URL and process."""
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    log = tmp_path / "bot.log"
    model.script(*(Text(f"Run {i}: the queue is empty.") for i in range(1, 6)))
    bot = await start_serve(env, port, log)
    return port, log, f"sqlite+aiosqlite:///{tmp_path / 'teammate.db'}", bot


@pytest.mark.timeout(420)
async def test_a_recurring_task_runs_at_its_slots_once_each_across_a_restart(
    sandbox, model, tmp_path
) -> None:
    env = schedule_environment(sandbox, model, tmp_path)
    port, log, url, bot = await serve_on_sqlite(sandbox, model, tmp_path, env)
    try:
        short_id, _ = await scheduled(sandbox, f"every 1m {GOAL}")
        await runs_reported(sandbox, 1, 150)
        await recorded_done(url, short_id, 1)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    async with serving(env, port, log):
        await runs_reported(sandbox, 2, 180)
    runs = await runs_in_store(url, short_id)
    shown = cards(sandbox)
    # Each slot ran once: one run row and one card for each, one model request for each.
    assert len(runs) == len(shown) == len(model.requests) >= 2
    slots = [r.slot for r in runs]
    assert len(set(slots)) == len(slots) and all(s % 60 == 0 for s in slots)
    assert all(r.state == "done" for r in runs)


@pytest.mark.timeout(420)
async def test_two_replicas_on_one_postgresql_database_run_each_slot_once(
    sandbox, model, tmp_path
) -> None:
    async with postgres_database() as db:
        env = schedule_environment(sandbox, model, tmp_path, TEAMMATE_DATABASE_URL=db.url)
        model.script(*(Text(f"Run {i}: the queue is empty.") for i in range(1, 6)))
        first, second = free_port(), free_port()
        sandbox.request_url = f"http://127.0.0.1:{first}/slack/events"
        async with (
            serving({**env, "TEAMMATE_DATA_DIR": str(tmp_path / "a")}, first, tmp_path / "a.log"),
            serving({**env, "TEAMMATE_DATA_DIR": str(tmp_path / "b")}, second, tmp_path / "b.log"),
        ):
            short_id, _ = await scheduled(sandbox, f"every 1m {GOAL}")
            await runs_reported(sandbox, 2, 200)
            await asyncio.sleep(2.0)  # both replicas tick (once a second) past the second slot
        runs = await runs_in_store(db.url, short_id)
        assert len(runs) == len(cards(sandbox)) == len(model.requests) >= 2
        assert len({r.slot for r in runs}) == len(runs)


async def claimed(url: str, short_id: str, within: float = 150.0) -> None:
    """Wait until the store shows the schedule's first slot claimed."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await runs_in_store(url, short_id):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("no slot was claimed")


@pytest.mark.timeout(420)
@pytest.mark.parametrize("durable", ["false", "true"], ids=["plain", "durable"])
async def test_a_slot_whose_process_died_before_its_card_was_posted_runs_after_a_restart(
    sandbox, model, tmp_path, durable: str
) -> None:
    env = schedule_environment(
        sandbox,
        model,
        tmp_path,
        TEAMMATE_CLAIM_LEASE_SECONDS="3",
        TEAMMATE_DURABLE_ANSWERS=durable,
        TEAMMATE_EXECUTOR_ID="bot-1",
    )
    port, log, url, bot = await serve_on_sqlite(sandbox, model, tmp_path, env)
    try:
        short_id, _ = await scheduled(sandbox, f"every 1m {GOAL}")
        # Slack stops answering posts: the slot is claimed, its card never gets out.
        sandbox.configure(stalled_methods=["chat.postMessage"])
        await claimed(url, short_id)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    sandbox.configure(stalled_methods=[])
    [cut] = await runs_in_store(url, short_id)
    assert cut.state == "running" and not cards(sandbox)
    async with serving(env, port, log):
        await runs_reported(sandbox, 1, 60)
        await recorded_done(url, short_id, 1)
    runs = await runs_in_store(url, short_id)
    # The slot the dead process claimed ran, once: one card and one model request a run.
    assert runs[0].slot == cut.slot and runs[0].state == "done"
    assert len(cards(sandbox)) == len(model.requests) == sum(r.state == "done" for r in runs)


def is_card(args: dict) -> bool:
    return marks.TASK_CARD in str(args.get("metadata"))


@pytest.mark.timeout(420)
async def test_a_slot_killed_once_slack_posted_its_card_keeps_that_card_after_a_restart(
    sandbox, model, tmp_path
) -> None:
    env = schedule_environment(
        sandbox, model, tmp_path, TEAMMATE_CLAIM_LEASE_SECONDS="3", TEAMMATE_EXECUTOR_ID="bot-1"
    )
    port, log, url, bot = await serve_on_sqlite(sandbox, model, tmp_path, env)
    try:
        # Slack posts the slot's card and the bot dies before it hears back.
        with sandbox.holding("chat.postMessage", is_card) as held:
            short_id, _ = await scheduled(sandbox, f"every 1m {GOAL}")
            await held.seen(150)
            bot.send_signal(signal.SIGKILL)
            bot.wait()
    finally:
        bot.kill()
        bot.wait()
    [card] = cards(sandbox)
    [cut] = await runs_in_store(url, short_id)
    assert cut.state == "running"
    async with serving(env, port, log):
        await runs_reported(sandbox, 1, 60)
        await recorded_done(url, short_id, 1)
    runs = await runs_in_store(url, short_id)
    shown = cards(sandbox)
    # The card Slack had posted is the slot's only card, with the run's report in its thread.
    assert shown[0]["ts"] == card["ts"] and reported(sandbox, shown[0])
    assert runs[0].slot == cut.slot and runs[0].state == "done"
    assert len(shown) == len(model.requests) == sum(r.state == "done" for r in runs)


@pytest.mark.parametrize("bot_options", [QUIET])
async def test_a_slot_that_comes_while_the_previous_run_works_is_skipped_and_said_once(
    stack,
) -> None:
    sandbox, scheduler = stack.sandbox, stack.runtime.scheduler
    go_on = asyncio.Event()

    async def first_run_held(body: dict) -> Text:
        await go_on.wait()
        return Text("Queue is empty.")

    stack.model.script(Dynamic(first_run_held), Text("Queue is empty again."))
    short_id, _ = await scheduled(sandbox, f"every 1m {GOAL}")
    schedule = await scheduler.store.get(short_id)  # type: ignore[union-attr]
    first = int(schedule.next_at)
    [run] = await scheduler.tick(now=first)  # type: ignore[union-attr]
    await run
    [card] = await sandbox.wait_for(lambda: cards(sandbox) or None, 10)
    await sandbox.wait_for(lambda: stack.model.requests or None, 10)
    for later in (first + 60, first + 120):  # two slots come while it works
        [run] = await scheduler.tick(now=later)  # type: ignore[union-attr]
        await run
    assert len(cards(sandbox)) == 1
    thread = sandbox.replies("general", card["ts"], from_bot=True)
    said = [r for r in thread if "skipped" in r["text"]]
    assert len(said) == 1, said
    assert f"Schedule `{short_id}` skipped its run of " in said[0]["text"]
    assert "a schedule never runs twice at once" in said[0]["text"].lower()
    runs = await scheduler.store.runs(schedule.id)  # type: ignore[union-attr]
    assert [r.state for r in runs] == ["done", "skipped", "skipped"]
    go_on.set()
    await runs_reported(sandbox, 1, 30)
    # Once it has ended, the next slot runs as usual.
    [run] = await scheduler.tick(now=first + 180)  # type: ignore[union-attr]
    await run
    await runs_reported(sandbox, 2, 30)
    runs = await scheduler.store.runs(schedule.id)  # type: ignore[union-attr]
    assert [r.state for r in runs] == ["done", "skipped", "skipped", "done"]
    assert len(stack.model.requests) == 2


@pytest.mark.parametrize("bot_options", [QUIET])
async def test_a_slot_whose_process_died_after_its_run_but_before_noting_it_is_closed(
    stack,
) -> None:
    scheduler = stack.runtime.scheduler
    short_id, _ = await scheduled(stack.sandbox, f"every 1m {GOAL}")
    schedule = await scheduler.store.get(short_id)  # type: ignore[union-attr]
    dead = ClaimStore(stack.runtime.db, "dead-process")
    slot = await ScheduleStore(stack.runtime.db, "dead-process").claim(schedule, schedule.next_at)
    await dead.finish(await dead.claim(claim_key(schedule, slot)))  # it ran, then it died
    lease = stack.runtime.services.claims.lease_seconds
    [run] = await scheduler.tick(now=schedule.next_at + lease + 1)  # type: ignore[union-attr]
    await run
    [ran] = await scheduler.store.runs(schedule.id)  # type: ignore[union-attr]
    assert (ran.slot, ran.state, ran.note) == (slot, "done", ENDED_UNNOTED)
    assert not cards(stack.sandbox) and not stack.model.requests  # nothing ran it again
