"""An answer is a durable run: a bot killed mid-answer finishes it when it starts again,
with no Slack retry, or on another replica that Slack's retry reaches, or on a running process
that `teammate recover` hands it to; each time the thread ends with exactly one complete
answer."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.testkit.processes import (
    COMPLETE_ANSWER,
    answer_cut_by_sigkill,
    complete_answer,
    free_port,
    serving,
)
from bot.testkit.stack import bot_environment
from tests.conftest import postgres_database
from tests.e2e.test_cli import teammate
from tests.e2e.test_exactly_once import mention_event_id


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request):
    """The bot's database setting: SQLite in its data folder (DBOS in a file beside it), or a
    fresh PostgreSQL database (DBOS in its schema ``dbos``)."""
    if request.param == "sqlite":
        yield {}
        return
    async with postgres_database() as db:
        yield {"TEAMMATE_DATABASE_URL": db.url}


def durable_environment(sandbox, model, tmp_path, **changes: str) -> dict[str, str]:
    return {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_DURABLE_ANSWERS": "true",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
        **changes,
    }


async def one_complete_answer(sandbox, model, ts: str) -> None:
    """The thread holds the complete answer alone; the model was asked twice (the request
    the kill cut, then the resumed one)."""
    replies = await complete_answer(sandbox, ts, 20)
    assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
    assert len(model.requests) == 2


async def test_killed_mid_answer_resumes_on_restart_without_a_slack_retry(
    sandbox, model, tmp_path, database
) -> None:
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1", **database)
    log = tmp_path / "bot.log"
    posted, port = await answer_cut_by_sigkill(sandbox, model, env, log)
    async with serving(env, port, log):
        await one_complete_answer(sandbox, model, posted["ts"])
        # Slack never sent the mention again: the restart alone finished the answer.
        asked = [a for a in sandbox.delivery.attempts("event") if a["id"] in posted["event_ids"]]
        assert [a["retry_num"] for a in asked] == [0] * len(posted["event_ids"])
    # Stopped gracefully once answered, the run is recorded as finished: a further start
    # resumes nothing and answers nothing again.
    async with serving(env, port, log):
        await asyncio.sleep(2.0)  # a resumed run starts within a second of the start
        await sandbox.settle()
        replies = sandbox.replies("general", posted["ts"], from_bot=True)
        assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
        assert len(model.requests) == 2


async def test_a_slack_retry_on_another_replica_finishes_a_dead_replicas_answer(
    sandbox, model, tmp_path
) -> None:
    async with postgres_database() as db:
        env = durable_environment(
            sandbox,
            model,
            tmp_path,
            TEAMMATE_DATABASE_URL=db.url,
            TEAMMATE_CLAIM_LEASE_SECONDS="1.5",
        )
        posted, _ = await answer_cut_by_sigkill(
            sandbox, model, {**env, "TEAMMATE_EXECUTOR_ID": "replica-a"}, tmp_path / "a.log"
        )
        port = free_port()
        async with serving({**env, "TEAMMATE_EXECUTOR_ID": "replica-b"}, port, tmp_path / "b.log"):
            sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
            await asyncio.sleep(1.6)  # the dead replica's lease runs out
            attempt = await sandbox.redeliver(mention_event_id(sandbox, posted), retry_num=1)
            assert attempt["status"] == 200
            await one_complete_answer(sandbox, model, posted["ts"])


@pytest.mark.parametrize("build", ["this", "earlier"])
async def test_recover_hands_a_gone_executors_answer_to_a_running_process(
    sandbox, model, tmp_path, build
) -> None:
    """Also when the gone executor ran an earlier build, whose steps this one cannot replay
    (TEAMMATE_RELEASE plays it): the answer is then answered again from its start."""
    env = durable_environment(sandbox, model, tmp_path)
    gone = {**env, "TEAMMATE_EXECUTOR_ID": "gone"}
    if build == "earlier":
        gone["TEAMMATE_RELEASE"] = "0.0.9+steps.0"
    posted, port = await answer_cut_by_sigkill(sandbox, model, gone, tmp_path / "gone.log")
    async with serving({**env, "TEAMMATE_EXECUTOR_ID": "other"}, port, tmp_path / "b.log"):
        await asyncio.sleep(1.0)
        assert not [r for r in sandbox.replies("general", posted["ts"]) if not r["streaming"]]
        status, said = await teammate("recover", "gone", env=env, cwd=tmp_path)
        assert status == 0 and said.startswith("gone: 1 run handed to the running processes")
        await one_complete_answer(sandbox, model, posted["ts"])


async def test_recover_before_any_durable_run_says_what_to_do(tmp_path) -> None:
    status, said = await teammate(
        "recover", "gone", env={"TEAMMATE_DATA_DIR": str(tmp_path)}, cwd=tmp_path
    )
    assert status == 2
    assert said.strip().splitlines() == [
        "teammate: could not read the durable runs in TEAMMATE_DATABASE_URL (OperationalError): "
        "start `teammate serve` or `run` once (durable answers on, the default) to create "
        "them, and check the database is reachable"
    ]
