"""`/task` scaled out on PostgreSQL: `teammate serve` replicas post the card and queue the task,
`teammate worker` processes run it. Every task reports once and every mention is answered
once, at most TEAMMATE_MAX_TASKS tasks work at once and the workspace's limit on sessions holds
across the workers; a reply and a Stop that reach a replica steer and stop a task on a worker;
the card says "stopping" as soon as the Stop reaches the replica; a task left by a killed
worker ends once, after its restart or on another after `recover`; the
workers, not the replicas, run the schedules and the tasks that answers hand over."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections import Counter

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.slack.render.task_card import STOP
from bot.testkit.fakes.script import Dynamic, Text, ToolCalls, ToolUse
from tests.e2e.test_cli import teammate
from tests.e2e.test_schedules import GOAL as SCHEDULED
from tests.e2e.test_schedules import recorded_done, runs_in_store, runs_reported, scheduled
from tests.e2e.test_task_handover import TASK_REPORT, model_that_hands_over, task_card
from tests.e2e.test_workers import LIMIT, Deployment, deployment

pytestmark = pytest.mark.timeout(600)  # four bot processes start and work on two cores

MAX_TASKS = 2
"""Fewer than the workspace's limit, so the tasks' own limit is the one that binds them."""
TASKS, MENTIONS = 20, 50
ANSWER = "Here is the answer to the question."
STEPS = ("Read the notes", "Write the summary")
GOAL = re.compile(r"goal-(\d+)")
QUESTION = re.compile(r"question (\d+)")


def plan(*statuses: str) -> ToolCalls:
    steps = [{"title": t, "status": s} for t, s in zip(STEPS, statuses, strict=True)]
    return ToolCalls([ToolUse("update_plan", {"steps": steps})], delay=0.02)


def report(number: str) -> str:
    return f"Report for goal-{number}: both steps done. Sources: the notes."


def sent(body: dict) -> str:
    return json.dumps(body.get("messages", []), ensure_ascii=False)


def tool_results(body: dict) -> int:
    return sum(
        1
        for message in body.get("messages", [])
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


class Work:
    """The fake model's side: a task's run plans, ticks its plan and reports (three requests);
    a mention gets one answer. Counts each request, and how many tasks work at once."""

    def __init__(self) -> None:
        self.asked: Counter[tuple[str, str, int]] = Counter()
        self.working: set[str] = set()
        self.most_working = 0

    def reply(self, body: dict) -> ToolCalls | Text:
        if "update_plan" not in {tool.get("name") for tool in body.get("tools", [])}:
            number = QUESTION.findall(sent(body))[-1]
            self.asked["mention", number, 0] += 1
            return Text(ANSWER, delay=0.01)
        number, step = GOAL.findall(sent(body))[0], tool_results(body)
        self.asked["task", number, step] += 1
        if step == 0:
            self.working.add(number)
            self.most_working = max(self.most_working, len(self.working))
            return plan("in_progress", "pending")
        if step == 1:
            return plan("done", "done")
        self.working.discard(number)
        return Text(report(number), delay=0.01)


async def start_tasks(deployed: Deployment, goals: list[str]) -> dict[str, str]:
    """`/task` for each goal, each sent to the next replica in turn; short id by goal."""
    sandbox = deployed.sandbox
    for number, goal in enumerate(goals):
        sandbox.request_url = deployed.replicas[number % len(deployed.replicas)]
        result = await sandbox.run_command("alice", "general", "/task", goal)
        assert result["status"] == 200 and not result["failed"], result

    def cards() -> dict[str, str] | None:
        found = {}
        for message in sandbox.channel_messages("general"):
            short_id = re.search(r"Task `(\w{6})`", message.get("text", ""))
            goal = GOAL.search(message.get("text", ""))
            if message.get("bot_id") and short_id and goal:
                found[f"goal-{goal.group(1)}"] = short_id.group(1)
        return found if set(found) == set(goals) else None

    return await sandbox.wait_for(cards, 120)  # about a post a second in a channel


def card_of(deployed: Deployment, short_id: str) -> dict:
    [card] = [
        m
        for m in deployed.sandbox.channel_messages("general")
        if m.get("bot_id") and f"`{short_id}`" in m["text"]
    ]
    return card


def closing_lines(deployed: Deployment, short_id: str) -> list[dict]:
    card = card_of(deployed, short_id)
    replies = deployed.sandbox.replies("general", card["ts"], from_bot=True)
    return [r for r in replies if r["text"].startswith(f"<@U0ALICE> task `{short_id}`")]


async def ended(deployed: Deployment, short_ids: list[str], within: float) -> None:
    """Every task's card shows it ended and its thread has its closing line."""

    def done() -> bool:
        return all(
            closing_lines(deployed, s)
            and any(w in card_of(deployed, s)["text"] for w in ("Done", "Stopped", "Failed"))
            for s in short_ids
        )

    await deployed.sandbox.wait_for(done, within)
    await deployed.sandbox.settle()


async def fetch(deployed: Deployment, query: str, *args: object) -> list[asyncpg.Record]:
    url = deployed.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def finished(deployed: Deployment, name: str, count: int) -> list[asyncpg.Record]:
    """DBOS's record of the ``count`` workflows named ``name``, once each has recorded its
    outcome (that comes just after the task's closing line)."""
    for _ in range(300):
        rows = await fetch(
            deployed,
            "SELECT workflow_uuid, executor_id, status, queue_name, queue_partition_key "
            "FROM dbos.workflow_status WHERE name = $1",
            name,
        )
        if len(rows) == count and {r["status"] for r in rows} == {"SUCCESS"}:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"not all {count} {name} finished: {[r['status'] for r in rows]}")


async def test_tasks_and_mentions_on_two_workers_each_end_once_within_the_limits(
    sandbox, model, tmp_path
) -> None:
    work = Work()
    model.default = Dynamic(work.reply)
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_MAX_TASKS"] = str(MAX_TASKS)
        await deployed.work("worker-1")  # alone: it creates DBOS's tables (see the class)
        await asyncio.gather(deployed.serve(2), deployed.work("worker-2"))
        goals = [f"goal-{n}" for n in range(TASKS)]
        short_ids = await start_tasks(deployed, goals)
        posted = await deployed.mention(MENTIONS)
        await deployed.answered(posted, ANSWER, within=300)
        await ended(deployed, list(short_ids.values()), within=300)

        for goal, short_id in short_ids.items():
            card = card_of(deployed, short_id)
            assert "✅ Done" in card["text"], card["text"]
            replies = sandbox.replies("general", card["ts"], from_bot=True)
            number = goal.removeprefix("goal-")
            assert [r["text"].strip() for r in replies if "Report for" in r["text"]] == [
                report(number)
            ]
            [closing] = closing_lines(deployed, short_id)
            assert closing["text"].startswith(f"<@U0ALICE> task `{short_id}` is done.")
        # Each request was made once: no task and no mention was worked on twice.
        expected = {("task", str(n), step) for n in range(TASKS) for step in range(3)}
        expected |= {("mention", str(n), 0) for n in range(MENTIONS)}
        assert set(work.asked) == expected
        assert set(work.asked.values()) == {1}
        assert len(model.requests) == 3 * TASKS + MENTIONS
        assert 1 < model.most_in_flight <= LIMIT  # the workspace's limit, tasks and answers
        assert work.most_working <= MAX_TASKS  # across both workers

        tasks = await finished(deployed, "teammate.task", TASKS)
        assert {t["queue_name"] for t in tasks} == {"teammate.sessions"}
        assert {t["queue_partition_key"] for t in tasks} == {sandbox.team_id}
        assert {t["executor_id"] for t in tasks} <= {"worker-1", "worker-2"}
        turns = await finished(deployed, "teammate.task.turn", TASKS)
        assert {t["queue_name"] for t in turns} == {"teammate.tasks"}


def held_until(event: asyncio.Event, reply: ToolCalls | Text) -> Dynamic:
    async def when_let_go(body: dict) -> ToolCalls | Text:
        await event.wait()
        return reply

    return Dynamic(when_let_go)


async def test_a_reply_and_a_stop_at_a_replica_reach_the_task_on_a_worker(
    sandbox, model, tmp_path
) -> None:
    second, third = asyncio.Event(), asyncio.Event()
    ticked_and_reading = ToolCalls(  # the last step ticked, then the thread read
        [*plan("done", "done").calls, ToolUse("read_thread", {})], delay=0.02
    )
    model.script(
        plan("in_progress", "pending"),
        held_until(second, plan("done", "in_progress")),
        held_until(third, ticked_and_reading),
    )
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")
        await deployed.serve(1)
        short_ids = await start_tasks(deployed, ["goal-0"])
        short_id = short_ids["goal-0"]
        card = card_of(deployed, short_id)
        await sandbox.wait_for(lambda: len(model.requests) >= 2 or None, 120)

        # Every request goes to the replica; the task runs on the worker.
        sandbox.post_message("bob", "general", "Keep it to one page", card["ts"])
        for _ in range(300):  # the replica keeps it for the task's next request
            if await fetch(deployed, "SELECT 1 FROM task_steering"):
                break
            await asyncio.sleep(0.1)
        second.set()
        await sandbox.wait_for(lambda: len(model.requests) >= 3 or None, 60)
        assert "Keep it to one page" in sent(model.requests[2].json)
        assert "<@U0BOB>" in sent(model.requests[2].json)

        # The worker drew the reply it took in; its card painter then goes idle while the
        # request waits (it draws only on a change), so what draws "stopping" next is the Stop.
        await sandbox.wait_for(lambda: "📨 Taken in" in str(card_of(deployed, short_id)["blocks"]))
        await asyncio.sleep(1.0)
        await sandbox.click("alice", "general", card["ts"], STOP, short_id)
        [told] = await sandbox.wait_for(lambda: sandbox.ephemeral("alice") or None, 30)
        assert "stops at its next step" in told["text"]
        # The replica draws it on the card at once, while the worker's request still waits.
        stopping = "stopping: stopped by <@U0ALICE>"
        await sandbox.wait_for(lambda: stopping in str(card_of(deployed, short_id)["blocks"]), 30)
        assert len(model.requests) == 3 and not third.is_set()
        assert "📨 Taken in: <@U0BOB>" in str(card_of(deployed, short_id)["blocks"])

        def reading_the_card(args: dict) -> bool:
            return args.get("ts") == card["ts"]

        with sandbox.holding("conversations.replies", reading_the_card) as reading:
            third.set()  # the step under way ends: it ticks the plan and reads the thread
            await reading.seen(60)
            # The worker draws the ticked step on the card, and "stopping" stays on it.
            ticked = await sandbox.wait_for(
                lambda: (
                    "2/2 steps" in (shown := str(card_of(deployed, short_id)["blocks"])) and shown
                ),
                30,
            )
            assert stopping in ticked
        await ended(deployed, [short_id], within=60)  # the next request is not asked for
        # From the Stop on, every drawing of the card says "stopping" until it says stopped.
        drawn = [
            str(c["args"]) for c in sandbox.calls("chat.update") if c["args"]["ts"] == card["ts"]
        ]
        since = drawn[next(i for i, d in enumerate(drawn) if stopping in d) :]
        assert all(stopping in d or "⏹️ Stopped" in d for d in since), since

        card = card_of(deployed, short_id)
        assert "⏹️ Stopped" in card["text"]
        assert "📨 Taken in: <@U0BOB> “Keep it to one page”" in str(card["blocks"])
        replies = sandbox.replies("general", card["ts"], from_bot=True)
        answer, closing = replies[0], replies[-1]
        assert "partial report" in answer["text"] and "Read the notes" in answer["text"]
        assert closing["text"].startswith(
            f"<@U0ALICE> task `{short_id}` stopped: stopped by <@U0ALICE>."
        )
        assert len(model.requests) == 3
        [task] = await finished(deployed, "teammate.task", 1)
        assert task["executor_id"] == "worker-1"


class CutAtTheSecondRequest:
    """A task's run whose second request is never answered the first time it is sent (its
    worker is killed meanwhile); sent again, it goes on. Counts the requests by step."""

    def __init__(self) -> None:
        self.asked: Counter[int] = Counter()

    async def reply(self, body: dict) -> ToolCalls | Text:
        step = tool_results(body)
        self.asked[step] += 1
        if step == 0:
            return plan("in_progress", "pending")
        if step == 1:
            if self.asked[1] == 1:
                await asyncio.Event().wait()  # cut by the kill
            return plan("done", "done")
        return Text(report("0"), delay=0.01)


@pytest.mark.parametrize("back", ["restart", "recover"])
async def test_a_task_left_by_a_killed_worker_ends_once(sandbox, model, tmp_path, back) -> None:
    run = CutAtTheSecondRequest()
    model.default = Dynamic(run.reply)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")
        await deployed.serve(1)
        short_id = (await start_tasks(deployed, ["goal-0"]))["goal-0"]
        await sandbox.wait_for(lambda: run.asked[1] or None, 120)
        deployed.kill("worker-1")
        if back == "restart":
            await deployed.work("worker-1")  # the same executor id: it resumes what it left
        else:  # worker-1 does not come back: its task goes to worker-2
            await deployed.work("worker-2")
            status, said = await teammate("recover", "worker-1", env=deployed.env, cwd=tmp_path)
            assert status == 0, said
        await ended(deployed, [short_id], within=120)

        card = card_of(deployed, short_id)
        assert "✅ Done" in card["text"]
        replies = sandbox.replies("general", card["ts"], from_bot=True)
        assert [r["text"].strip() for r in replies if "Report for" in r["text"]] == [report("0")]
        assert len(closing_lines(deployed, short_id)) == 1
        # The first request was recorded: not sent again; the cut one was sent again.
        assert run.asked == {0: 1, 1: 2, 2: 1}
        [task] = await finished(deployed, "teammate.task", 1)
        assert task["executor_id"] == ("worker-1" if back == "restart" else "worker-2")


async def test_the_workers_run_the_schedules(sandbox, model, tmp_path) -> None:
    model.default = Text("The deploy queue is empty.", delay=0.01)
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_SCHEDULE_TICK"] = "1"
        await deployed.work("worker-1")
        await deployed.serve(1)
        sandbox.request_url = deployed.replicas[0]
        short_id, _ = await scheduled(sandbox, f"every 1m {SCHEDULED}")
        await runs_reported(sandbox, 1, 150)
        await recorded_done(deployed.database_url, short_id, 1)
        # The worker claimed the slot (the replica only acknowledges) and ran its task.
        worker, _ = deployed.workers["worker-1"]
        owners = {run.owner for run in await runs_in_store(deployed.database_url, short_id)}
        assert owners == {f"{socket.gethostname()}:{worker.pid}"}
        ran = await fetch(
            deployed, "SELECT executor_id FROM dbos.workflow_status WHERE name = 'teammate.task'"
        )
        assert ran and {row["executor_id"] for row in ran} == {"worker-1"}


async def test_a_task_an_answer_hands_over_on_a_worker_runs_there_too(
    sandbox, model, tmp_path
) -> None:
    model.default = Dynamic(model_that_hands_over)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")
        await deployed.serve(1)
        [asked] = await deployed.mention(1, "go through this quarter's incidents")
        short_id = await sandbox.wait_for(lambda: task_card(sandbox), 60)
        await ended(deployed, [short_id], within=120)

        def answer() -> str | None:
            replies = sandbox.replies("general", asked["ts"], from_bot=True)
            done = [r["text"] for r in replies if not r["streaming"]]
            return done[0] if done else None

        assert f"I've started task `{short_id}`" in await sandbox.wait_for(answer, 30)
        card = card_of(deployed, short_id)
        assert "✅ Done" in card["text"]
        texts = [r["text"] for r in sandbox.replies("general", card["ts"], from_bot=True)]
        assert sum(TASK_REPORT in text for text in texts) == 1
        assert len(closing_lines(deployed, short_id)) == 1
        [task] = await finished(deployed, "teammate.task", 1)
        assert task["executor_id"] == "worker-1" and task["queue_name"] == "teammate.sessions"
