"""An answer is a durable run: a bot killed mid-answer finishes it when it starts again,
with no Slack retry, or on another replica that Slack's retry reaches; either way the thread
ends with exactly one complete answer."""

from __future__ import annotations

import asyncio
import os

import pytest

from bot.testkit.processes import (
    COMPLETE_ANSWER,
    answer_cut_by_sigkill,
    complete_answer,
    free_port,
    start_serve,
)
from bot.testkit.stack import bot_environment
from tests.conftest import postgres_database
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


async def test_killed_mid_answer_resumes_on_restart_without_a_slack_retry(
    sandbox, model, tmp_path, database
) -> None:
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        **database,
        "TEAMMATE_DURABLE_ANSWERS": "true",
        "TEAMMATE_EXECUTOR_ID": "bot-1",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
    }
    posted, port = await answer_cut_by_sigkill(sandbox, model, env, tmp_path / "bot.log")
    restarted = await start_serve(env, port, tmp_path / "bot.log")
    try:
        replies = await complete_answer(sandbox, posted["ts"], 20)
        assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
        assert len(model.requests) == 2  # the request cut by the kill, then the resumed one
        # Slack never sent the mention again: the restart alone finished the answer.
        asked = [a for a in sandbox.delivery.attempts("event") if a["id"] in posted["event_ids"]]
        assert [a["retry_num"] for a in asked] == [0] * len(posted["event_ids"])
    finally:
        restarted.terminate()
        restarted.wait(10)
    # Stopped gracefully once answered, the run is recorded as finished: a further start
    # resumes nothing and answers nothing again.
    again = await start_serve(env, port, tmp_path / "bot.log")
    try:
        await asyncio.sleep(2.0)  # a resumed run starts within a second of the start
        await sandbox.settle()
        replies = sandbox.replies("general", posted["ts"], from_bot=True)
        assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
        assert len(model.requests) == 2
    finally:
        again.terminate()
        again.wait(10)


async def test_a_slack_retry_on_another_replica_finishes_a_dead_replicas_answer(
    sandbox, model, tmp_path
) -> None:
    async with postgres_database() as db:
        env = {
            **os.environ,
            **bot_environment(sandbox, model, tmp_path),
            "TEAMMATE_DATABASE_URL": db.url,
            "TEAMMATE_DURABLE_ANSWERS": "true",
            "TEAMMATE_CLAIM_LEASE_SECONDS": "1.5",
            "TEAMMATE_STREAM_INTERVAL": "0.2",
        }
        posted, _ = await answer_cut_by_sigkill(
            sandbox, model, {**env, "TEAMMATE_EXECUTOR_ID": "replica-a"}, tmp_path / "a.log"
        )
        port = free_port()
        other = await start_serve(
            {**env, "TEAMMATE_EXECUTOR_ID": "replica-b"}, port, tmp_path / "b.log"
        )
        try:
            sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
            await asyncio.sleep(1.6)  # the dead replica's lease runs out
            attempt = await sandbox.redeliver(mention_event_id(sandbox, posted), retry_num=1)
            assert attempt["status"] == 200
            replies = await complete_answer(sandbox, posted["ts"], 20)
            assert [r["text"].strip() for r in replies] == [COMPLETE_ANSWER]
            assert len(model.requests) == 2
        finally:
            other.terminate()
            other.wait(10)
