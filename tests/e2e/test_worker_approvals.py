"""Scaled out on PostgreSQL, an answer or a task that waits for an approval goes on on a
worker: the click reaches a `teammate serve` replica that only acknowledges, which queues the
resumed part (``resume:<run id>``) on the sessions queue, and a `teammate worker` runs it: the
tool that writes (a real MCP server over stdio) runs once, on the worker, and the answer (or
the task, Done, with one closing line) ends."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.slack.render.approval_view import APPROVE
from bot.testkit.fakes import Text
from bot.testkit.processes import COMPLETE_ANSWER
from tests.e2e.test_approvals import _buttons
from tests.e2e.test_durable_resumes import LEDGER_SERVER, the_task_ended_once, write_then
from tests.e2e.test_tasks import card_of, ended, start_task
from tests.e2e.test_workers import Deployment, deployment
from tests.mcp.servers import write_config

pytestmark = pytest.mark.timeout(600)  # three bot processes start and work on two cores


WITHIN = 90.0
"""Seconds for a worker to take a session off the queue and draw it, on two loaded cores."""


async def prompt_in(sandbox, ts: str) -> dict:
    def posted() -> dict | None:
        prompts = [r for r in sandbox.replies("general", ts, from_bot=True) if _buttons(r)]
        return prompts[0] if prompts else None

    return await sandbox.wait_for(posted, WITHIN)


async def resumes(database_url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(
        database_url.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        return await connection.fetch(
            "SELECT executor_id, status, queue_name FROM dbos.workflow_status "
            "WHERE name = 'teammate.resume'"
        )
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def ledger_deployment(sandbox, model, tmp_path) -> AsyncIterator[Deployment]:
    """One replica and worker-1, with the ledger server (its tool writes: it asks first)."""
    entry = {
        "command": sys.executable,
        "args": [str(LEDGER_SERVER)],
        "env": {"LEDGER_FILE": str(tmp_path / "ledger.txt")},
        "risk": "write",
    }
    async with deployment(sandbox, model, tmp_path) as deployed:
        deployed.env["TEAMMATE_MCP_CONFIG"] = str(write_config(tmp_path, {"ledger": entry}))
        await deployed.work("worker-1")
        await deployed.serve(1)
        yield deployed


async def resumed_on_worker_1(deployed: Deployment, tmp_path: Path) -> None:
    """The tool ran once, and the resumed part was a session on worker-1."""
    assert (tmp_path / "ledger.txt").read_text().splitlines() == ["deploy 42"]
    for _ in range(300):  # its outcome is recorded just after the answer shows in Slack
        [resumed] = await resumes(deployed.database_url)
        if resumed["status"] != "PENDING":
            break
        await asyncio.sleep(0.1)
    assert (resumed["executor_id"], resumed["status"]) == ("worker-1", "SUCCESS")
    assert resumed["queue_name"] == "teammate.sessions"


async def test_a_click_at_a_replica_resumes_the_answer_on_a_worker(
    sandbox, model, tmp_path
) -> None:
    ledger = tmp_path / "ledger.txt"
    write_then(model, Text(COMPLETE_ANSWER))
    async with ledger_deployment(sandbox, model, tmp_path) as deployed:
        [asked] = await deployed.mention(1, "record deploy 42")
        prompt = await prompt_in(sandbox, asked["ts"])
        assert not ledger.exists()  # nothing ran before the click
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)  # at the replica
        await sandbox.wait_for(
            lambda: any(
                r["text"] == COMPLETE_ANSWER and not r["streaming"]
                for r in sandbox.replies("general", asked["ts"], from_bot=True)
            ),
            WITHIN,
        )
        await sandbox.settle()
        answers = sandbox.replies("general", asked["ts"], from_bot=True)
        assert [r["text"] for r in answers if r["text"] == COMPLETE_ANSWER] == [COMPLETE_ANSWER]
        await resumed_on_worker_1(deployed, tmp_path)


async def test_a_task_approved_at_a_replica_goes_on_and_ends_on_a_worker(
    sandbox, model, tmp_path
) -> None:
    write_then(model, Text(COMPLETE_ANSWER))
    async with ledger_deployment(sandbox, model, tmp_path) as deployed:
        sandbox.request_url = deployed.replicas[0]
        seen = SimpleNamespace(sandbox=sandbox)
        short_id = await start_task(seen, "record deploy 42")
        prompt = await prompt_in(sandbox, card_of(sandbox, short_id)["ts"])
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        end = await ended(seen, short_id, within=WITHIN)
        await sandbox.settle()
        end["replies"] = sandbox.replies("general", end["card"]["ts"], from_bot=True)
        the_task_ended_once(end, short_id)
        await resumed_on_worker_1(deployed, tmp_path)
