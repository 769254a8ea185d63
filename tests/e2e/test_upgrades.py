"""A deploy that changes the step layout leaves no run stranded. Each test cuts a run under an
earlier build's application version (TEAMMATE_RELEASE, the setting tests play a deploy with)
and starts this build: an answer cut mid-way is answered again from its start (the thread ends
with one complete answer), a task cut mid-way ends as interrupted by the upgrade, and an answer
queued and never taken runs under the new version. (`teammate recover` of an executor of the
earlier build: tests/e2e/test_durable_answers.py.)"""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace

import pytest

from bot.core.durable.engine import release
from bot.sandbox import Sandbox
from bot.testkit.fakes import FakeAnthropic, Text
from bot.testkit.fakes.script import Dynamic
from bot.testkit.processes import (
    COMPLETE_ANSWER,
    SLOW_ANSWER,
    answer_cut_by_sigkill,
    serving,
)
from tests.e2e.test_cli import teammate
from tests.e2e.test_durable_answers import durable_environment, one_complete_answer
from tests.e2e.test_exactly_once import mention_event_id
from tests.e2e.test_task_sessions import task_cut_at_its_first_step
from tests.e2e.test_tasks import card_of, ended
from tests.e2e.test_worker_tasks import CutAtTheSecondRequest, closing_lines, fetch, start_tasks
from tests.e2e.test_worker_tasks import card_of as worker_card_of
from tests.e2e.test_workers import Deployment, deployment

EARLIER = "0.0.9+steps.0"
"""The application version of the build before the deploy."""


def handled(log_text: str, what: str) -> list[str]:
    """The log lines that say what became of a run of the earlier version."""
    return [line for line in log_text.splitlines() if f"version {EARLIER}" in line and what in line]


async def test_an_answer_cut_by_an_upgrade_is_answered_again_from_its_start(
    sandbox, model, tmp_path
) -> None:
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1")
    log = tmp_path / "bot.log"
    posted, port = await answer_cut_by_sigkill(
        sandbox, model, {**env, "TEAMMATE_RELEASE": EARLIER}, log
    )
    async with serving(env, port, log):  # this build: its own version
        # The half answer deleted, the question answered again from its start, once.
        await one_complete_answer(sandbox, model, posted["ts"])
    [line] = handled(log.read_text(), "queued again from its start")
    assert f"event:{mention_event_id(sandbox, posted)} " in line and "cut mid-run" in line
    assert line.endswith(f"under {release()}")


async def test_a_task_cut_by_an_upgrade_ends_as_interrupted(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path
) -> None:
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1")
    log = tmp_path / "bot.log"
    earlier = {**env, "TEAMMATE_RELEASE": EARLIER}
    short_id, port = await task_cut_at_its_first_step(sandbox, model, earlier, log)
    async with serving(env, port, log):
        end = await ended(SimpleNamespace(sandbox=sandbox), short_id, within=60)
        await asyncio.sleep(1.5)  # anything resumed would start within a second
        await sandbox.settle()
    card = card_of(sandbox, short_id)
    assert "⚠️ Interrupted" in card["text"]
    reference = re.search(r"interrupted by a restart · ref `(\w+)`", str(card["blocks"]))
    assert reference is not None, card["blocks"]
    [closing] = [r for r in end["replies"] if f"task `{short_id}`" in r["text"]]
    assert closing["text"].startswith(
        f"<@U0ALICE> task `{short_id}` was interrupted by a restart (ref `{reference.group(1)}`):"
        " an upgrade changed how tasks run"
    )
    [line] = handled(log.read_text(), "ended as interrupted")
    assert f"ref={reference.group(1)}" in line
    assert len(model.requests) == 2  # it was not run again


async def queued_sessions(deployed: Deployment) -> list:
    """The answers' workflows waiting on the queue, once there is one."""
    for _ in range(100):
        if rows := await deployed.sessions(status="ENQUEUED"):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError("nothing was queued")


@pytest.mark.timeout(600)  # three bot processes start on two cores
async def test_a_worker_of_the_new_build_takes_what_the_earlier_one_left(
    sandbox, model, tmp_path
) -> None:
    """On workers: an answer the killed worker had under way, and one queued while no worker
    ran, are both answered once by the worker of the new build (same executor id)."""
    model.script(Text(SLOW_ANSWER, delay=0.05))
    model.default = Text(COMPLETE_ANSWER)
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_RELEASE"] = EARLIER
        await deployed.work("worker-1")
        await deployed.serve(1)
        [cut] = await deployed.mention(1)
        await sandbox.wait_for(
            lambda: sandbox.replies("general", cut["ts"], from_bot=True) or None, 60
        )
        deployed.kill("worker-1")
        [queued] = await deployed.mention(1)  # no worker: it waits on the queue
        [row] = await queued_sessions(deployed)
        del deployed.env["TEAMMATE_RELEASE"]
        await deployed.work("worker-1")  # the new build
        await deployed.answered([cut, queued], COMPLETE_ANSWER, within=120)
        assert len(model.requests) == 3  # the cut request, then each answer once
        log = (tmp_path / "worker-1.log").read_text()
        assert len(handled(log, "cut mid-run")) == 1
        [moved] = handled(log, "never started")
        assert row["workflow_uuid"] in moved
        sessions = await deployed.finished_sessions(2)
        assert {s["executor_id"] for s in sessions} == {"worker-1"}


@pytest.mark.timeout(600)  # three bot processes start on two cores
@pytest.mark.parametrize("back", ["restart", "recover"])
async def test_a_task_an_earlier_worker_left_ends_as_interrupted_with_its_turn(
    sandbox, model, tmp_path, back
) -> None:
    """Its worker started again on the new build, or, when it does not come back, `teammate
    recover` of the new build (another worker of it running)."""
    run = CutAtTheSecondRequest()
    model.default = Dynamic(run.reply)
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_RELEASE"] = EARLIER
        await deployed.work("worker-1")
        await deployed.serve(1)
        short_id = (await start_tasks(deployed, ["goal-0"]))["goal-0"]
        await sandbox.wait_for(lambda: run.asked[1] or None, 120)
        deployed.kill("worker-1")
        del deployed.env["TEAMMATE_RELEASE"]
        if back == "restart":
            await deployed.work("worker-1")  # the new build
        else:
            await deployed.work("worker-2")
            status, said = await teammate("recover", "worker-1", env=deployed.env, cwd=tmp_path)
            # The task's line says it ended; then the task and its turn are listed.
            assert status == 0 and "\nworker-1: 2 runs handed" in said, said
            assert "ended as interrupted" in said.splitlines()[0]
        [closing] = await sandbox.wait_for(lambda: closing_lines(deployed, short_id) or None, 60)
        assert "an upgrade changed how tasks run" in closing["text"]
        assert "⚠️ Interrupted" in worker_card_of(deployed, short_id)["text"]
        # Its workflow and its place on the tasks queue are given up; nothing ran again.
        rows = await fetch(
            deployed,
            "SELECT name, status FROM dbos.workflow_status WHERE name LIKE 'teammate.task%'",
        )
        assert sorted(tuple(r) for r in rows) == [
            ("teammate.task", "CANCELLED"),
            ("teammate.task.turn", "CANCELLED"),
        ]
        await asyncio.sleep(1.5)  # anything resumed would start within a second
        assert run.asked == {0: 1, 1: 1}
        assert len(closing_lines(deployed, short_id)) == 1
