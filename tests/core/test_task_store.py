"""The tasks table on SQLite and PostgreSQL: short ids, updates, and the list a person sees."""

from __future__ import annotations

from bot.core.events import PlanStep
from bot.core.store.tasks import SHORT_ID_ALPHABET, SHORT_ID_LENGTH, TaskStore
from bot.core.tasks.model import Budget


async def test_a_task_is_stored_found_by_its_short_id_and_updated(db) -> None:
    store = TaskStore(db)
    task = await store.create("T1", "C1", "U1", "tidy the runbook", Budget(10, 5000, 0.5))
    assert len(task.short_id) == SHORT_ID_LENGTH
    assert set(task.short_id) <= set(SHORT_ID_ALPHABET)
    plan = (PlanStep("Read it", "done"), PlanStep("Fix links", "in_progress"))
    await store.save(task, card_ts="111.2", state="running", plan=plan, tokens_used=1200)
    found = await store.get(task.short_id.upper())
    assert found is not None and found.state == "running" and found.card_ts == "111.2"
    assert found.plan == plan and found.tokens_used == 1200
    assert found.budget == Budget(10, 5000, 0.5) and found.current_step() == plan[1]
    assert await store.get("nosuch") is None


async def test_the_list_has_the_channel_s_tasks_and_the_person_s_own(db) -> None:
    store = TaskStore(db)
    mine_here = await store.create("T1", "C1", "U1", "one", Budget(1, 1))
    theirs_here = await store.create("T1", "C1", "U2", "two", Budget(1, 1))
    mine_elsewhere = await store.create("T1", "C2", "U1", "three", Budget(1, 1))
    await store.create("T1", "C2", "U2", "not mine, not here", Budget(1, 1))
    listed = [t.goal for t in await store.listed("C1", "U1")]
    assert sorted(listed) == sorted([mine_here.goal, theirs_here.goal, mine_elsewhere.goal])


async def test_a_stop_stops_a_queued_task_at_once_and_asks_a_working_one(db) -> None:
    store = TaskStore(db)
    queued = await store.create("T1", "C1", "U1", "wait", Budget(10, 5000))
    assert await store.request_stop(queued.id, "cancelled by <@U1>") == "stopped"
    assert await store.begin(queued.id) is None  # it never starts
    working = await store.create("T1", "C1", "U1", "work", Budget(10, 5000))
    started = await store.begin(working.id)
    assert started is not None and started.state == "running" and started.started_at
    assert await store.request_stop(working.id, "stopped by <@U2>") == "stopping"
    assert await store.request_stop(working.id, "cancelled by <@U1>") == "stopping"
    assert await store.stop_requested(working.id) == "stopped by <@U2>"  # the first one asked
    again = await store.begin(working.id)  # a restart takes it up: its start is kept
    assert again is not None and again.started_at == started.started_at
    await store.save(again, state="stopped")
    assert await store.request_stop(working.id, "late") is None


async def test_replies_are_kept_once_each_and_marked_taken(db) -> None:
    store = TaskStore(db)
    task = await store.create("T1", "C1", "U1", "work", Budget(10, 5000))
    await store.save(task, card_ts="100.1", state="running")
    assert (await store.in_thread("C1", "100.1")).id == task.id
    assert await store.in_thread("C1", "999.9") is None
    assert await store.steer(task.id, "U2", "100.2", "look at the DB")
    assert not await store.steer(task.id, "U2", "100.2", "look at the DB")  # a Slack retry
    assert await store.steer(task.id, "U3", "100.3", "and the cache")
    replies = await store.steering(task.id)
    assert [(r.user, r.text, r.taken) for r in replies] == [
        ("U2", "look at the DB", False),
        ("U3", "and the cache", False),
    ]
    await store.taken([replies[0].id])
    assert [r.taken for r in await store.steering(task.id)] == [True, False]
