"""The tasks handed over with ``/task``: created with a short id, updated as they work, listed
for a person and a channel.

A task is keyed by the claim of the request that started it (:func:`task_id_for`): the same
request taken up again (a slot taken over from a dead process, a tool call replayed) finds the
task it started, never a second one."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.events import PlanStep
from bot.core.store.db import Database
from bot.core.store.schema import TaskRow, TaskSteeringRow
from bot.core.tasks.model import FINISHED, Budget, Steering, Task

SHORT_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SHORT_ID_LENGTH = 6
_TASK_IDS = uuid.UUID("6f1d3c2e-4b1a-4f0e-9a57-7c0d2e9b8a61")
LEFT_RUNNING = ("queued", "running")
"""The states of a task whose run may have died with its process (``waiting`` is resumed by a
click, from any process)."""


def new_short_id(length: int = SHORT_ID_LENGTH) -> str:
    """Six characters (or ``length``) a person can type back (no 0/o, 1/l/i)."""
    return "".join(secrets.choice(SHORT_ID_ALPHABET) for _ in range(length))


def task_id_for(key: str) -> str:
    """The id of the task the request claimed as ``key`` starts."""
    return uuid.uuid5(_TASK_IDS, key).hex


class TaskStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        team_id: str,
        channel: str,
        requester: str,
        goal: str,
        budget: Budget,
        key: str | None = None,
    ) -> Task:
        """A new queued task with a short id no other task has; with ``key`` (the claim of the
        request that starts it), the one that request created already, if it did."""
        now = time.time()
        task_id = task_id_for(key) if key is not None else None
        for _ in range(5):
            if task_id is not None and (made := await self.by_id(task_id)) is not None:
                return made
            task = Task(
                id=task_id or uuid.uuid4().hex,
                short_id=new_short_id(),
                team_id=team_id,
                channel=channel,
                requester=requester,
                goal=goal,
                budget=budget,
                created_at=now,
                updated_at=now,
            )
            try:
                async with self.db.sessions.begin() as session:
                    session.add(_row(task))
                return task
            except IntegrityError:
                continue  # a short id taken already (or the key's task made meanwhile)
        raise RuntimeError("could not draw a free short task id")

    async def get(self, short_id: str) -> Task | None:
        async with self.db.sessions() as session:
            row = (
                await session.execute(select(TaskRow).where(TaskRow.short_id == short_id.lower()))
            ).scalar_one_or_none()
        return _task(row) if row is not None else None

    async def by_id(self, task_id: str) -> Task | None:
        async with self.db.sessions() as session:
            row = await session.get(TaskRow, task_id)
        return _task(row) if row is not None else None

    async def in_thread(self, channel: str, thread_ts: str) -> Task | None:
        """The task working (or waiting, or queued) in the thread of its card ``thread_ts``."""
        statement = select(TaskRow).where(
            TaskRow.channel == channel,
            TaskRow.card_ts == thread_ts,
            TaskRow.state.not_in(FINISHED),
        )
        async with self.db.sessions() as session:
            row = (await session.execute(statement)).scalars().first()
        return _task(row) if row is not None else None

    async def unfinished(self) -> list[Task]:
        """Tasks that were working or waiting for an approval (to pick up after a restart)."""
        statement = select(TaskRow).where(TaskRow.state.in_(("running", "waiting")))
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        return [_task(row) for row in rows]

    async def left_running(self, before: float) -> list[Task]:
        """Tasks queued or working, their card posted, not touched since ``before``: the ones
        whose process may be gone."""
        statement = select(TaskRow).where(
            TaskRow.state.in_(LEFT_RUNNING),
            TaskRow.card_ts.is_not(None),
            TaskRow.updated_at < before,
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        return [_task(row) for row in rows]

    async def left_without_card(self, before: float) -> list[Task]:
        """Tasks still queued with no card, not touched since ``before``: the ones whose
        process may have died while it was starting them."""
        statement = select(TaskRow).where(
            TaskRow.state == "queued", TaskRow.card_ts.is_(None), TaskRow.updated_at < before
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        return [_task(row) for row in rows]

    async def interrupt(self, task_id: str, reference: str) -> Task | None:
        """End a task whose process died as interrupted; None when it had ended (or paused)."""
        now = time.time()
        async with self.db.sessions.begin() as session:
            ended = await session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.state.in_(LEFT_RUNNING))
                .values(state="interrupted", error_reference=reference, updated_at=now)
            )
            if not ended.rowcount:  # type: ignore[attr-defined]
                return None
            row = await session.get(TaskRow, task_id)
            return _task(row) if row is not None else None

    async def begin(self, task_id: str) -> Task | None:
        """Mark the task working, its start stored once (a resumed task keeps its first);
        None when it ended meanwhile (cancelled while it waited)."""
        now = time.time()
        async with self.db.sessions.begin() as session:
            row = await session.get(TaskRow, task_id)
            if row is None or row.state in FINISHED:
                return None
            row.state, row.updated_at = "running", now
            row.started_at = row.started_at or now
            return _task(row)

    async def request_stop(self, task_id: str, reason: str) -> str | None:
        """Ask a task to stop at its next step, from any process: a queued one stops at once.
        Returns its state after (None: it had ended already)."""
        now = time.time()
        async with self.db.sessions.begin() as session:
            queued = await session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.state == "queued")
                .values(state="stopped", stop_reason=reason, updated_at=now)
            )
            if queued.rowcount:  # type: ignore[attr-defined]
                return "stopped"
            await session.execute(  # the first to ask is the one the report names
                update(TaskRow)
                .where(
                    TaskRow.id == task_id,
                    TaskRow.state.not_in(FINISHED),
                    TaskRow.stop_requested.is_(None),
                )
                .values(stop_requested=reason, updated_at=now)
            )
            state = await session.scalar(select(TaskRow.state).where(TaskRow.id == task_id))
            return None if state is None or state in FINISHED else "stopping"

    async def stop_requested(self, task_id: str) -> str | None:
        async with self.db.sessions() as session:
            return await session.scalar(select(TaskRow.stop_requested).where(TaskRow.id == task_id))

    async def steer(self, task_id: str, user: str, message_ts: str, text: str) -> bool:
        """Keep a reply for the task's next model request; False when it was kept already."""
        row = TaskSteeringRow(
            task_id=task_id, user_id=user, message_ts=message_ts, text=text, created_at=time.time()
        )
        try:
            async with self.db.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def steering(self, task_id: str) -> list[Steering]:
        """Every reply kept for the task, oldest first."""
        statement = (
            select(TaskSteeringRow)
            .where(TaskSteeringRow.task_id == task_id)
            .order_by(TaskSteeringRow.id)
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        return [
            Steering(row.id, row.user_id, row.text, row.message_ts, row.taken_at is not None)
            for row in rows
        ]

    async def taken(self, ids: list[int]) -> None:
        """Note that the run has these replies."""
        if not ids:
            return
        async with self.db.sessions.begin() as session:
            await session.execute(
                update(TaskSteeringRow)
                .where(TaskSteeringRow.id.in_(ids), TaskSteeringRow.taken_at.is_(None))
                .values(taken_at=time.time())
            )

    async def save(self, task: Task, **changes: Any) -> None:
        """Write ``changes`` (Task field names) to the task and its row."""
        for name, value in changes.items():
            setattr(task, name, value)
        task.updated_at = time.time()
        values = _values(task, set(changes) | {"updated_at"})
        async with self.db.sessions.begin() as session:
            await session.execute(update(TaskRow).where(TaskRow.id == task.id).values(**values))

    async def keep(self, task: Task) -> None:
        """Store the task's progress (plan, tokens, cost) and read, in the same statement, a
        stop asked for since in any process, onto ``task``."""
        task.updated_at = time.time()
        values = _values(task, {"plan", "tokens_used", "cost_usd", "updated_at"})
        async with self.db.sessions.begin() as session:
            asked = await session.scalar(
                update(TaskRow)
                .where(TaskRow.id == task.id)
                .values(**values)
                .returning(TaskRow.stop_requested)
            )
        task.stop_requested = task.stop_requested or asked

    async def listed(self, channel: str, user: str, limit: int = 20) -> list[Task]:
        """The newest tasks of ``channel`` and of ``user`` anywhere."""
        statement = (
            select(TaskRow)
            .where(or_(TaskRow.channel == channel, TaskRow.requester == user))
            .order_by(TaskRow.created_at.desc())
            .limit(limit)
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(statement)).scalars().all()
        return [_task(row) for row in rows]


def _row(task: Task) -> TaskRow:
    return TaskRow(id=task.id, **_values(task, None))


def _values(task: Task, names: set[str] | None) -> dict[str, Any]:
    values = {
        "short_id": task.short_id,
        "team_id": task.team_id,
        "channel": task.channel,
        "card_ts": task.card_ts,
        "requester": task.requester,
        "goal": task.goal,
        "state": task.state,
        "max_minutes": task.budget.minutes,
        "max_tokens": task.budget.tokens,
        "max_cost_usd": task.budget.cost_usd,
        "tokens_used": task.tokens_used,
        "cost_usd": task.cost_usd,
        "plan": json.dumps([{"title": s.title, "status": s.status} for s in task.plan]),
        "stop_reason": task.stop_reason,
        "error_reference": task.error_reference,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "stop_requested": task.stop_requested,
        "started_at": task.started_at,
    }
    if names is None:
        return values
    column_of = {"budget": ("max_minutes", "max_tokens", "max_cost_usd")}
    wanted = {column for name in names for column in column_of.get(name, (name,))}
    return {key: value for key, value in values.items() if key in wanted}


def _task(row: TaskRow) -> Task:
    return Task(
        id=row.id,
        short_id=row.short_id,
        team_id=row.team_id,
        channel=row.channel,
        requester=row.requester,
        goal=row.goal,
        budget=Budget(row.max_minutes, row.max_tokens, row.max_cost_usd),
        state=row.state,  # type: ignore[arg-type]
        card_ts=row.card_ts,
        tokens_used=row.tokens_used,
        cost_usd=row.cost_usd,
        plan=tuple(PlanStep(s["title"], s["status"]) for s in json.loads(row.plan or "[]")),
        stop_reason=row.stop_reason,
        error_reference=row.error_reference,
        created_at=row.created_at,
        updated_at=row.updated_at,
        stop_requested=row.stop_requested,
        started_at=row.started_at,
    )
