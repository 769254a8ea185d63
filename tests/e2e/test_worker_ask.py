"""`/ask` scaled out: the `teammate serve` replica only acknowledges and queues; the worker
posts the question ("<@asker> asked: …"), as the first step of the answer's workflow, and
answers in its thread. A worker killed after Slack posted the question and before it heard
back finds that question on its restart: one question, one complete answer. In a channel
Teammate is not in, the asker alone is told, and nothing is posted."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.slack.durable_answers import ASK_STEP
from bot.testkit.fakes import Text
from tests.e2e.test_workers import ANSWER, Deployment, deployment

pytestmark = pytest.mark.timeout(600)  # bot processes start and answer on two cores

QUESTION = "what is our on-call rota?"
HELD_WITHIN = 120.0


def questions(deployed: Deployment) -> list[dict]:
    return [
        m
        for m in deployed.sandbox.channel_messages("general")
        if m.get("bot_id") == deployed.sandbox.bot_id and "asked:" in m["text"]
    ]


async def asked_once_and_answered(deployed: Deployment, within: float) -> dict:
    """The channel's one question, once a question's thread holds a complete answer (the
    answer is there, exactly once, and no other question was posted)."""
    sandbox = deployed.sandbox

    def answered() -> bool:
        return any(
            ANSWER in r["text"] and not r["streaming"]
            for shown in questions(deployed)
            for r in sandbox.replies("general", shown["ts"], from_bot=True)
        )

    await sandbox.wait_for(answered, within)
    await deployed.finished_sessions(1, within=60)
    [question] = questions(deployed)
    assert question["text"] == f"<@U0ALICE> asked: {QUESTION}"
    replies = sandbox.replies("general", question["ts"], from_bot=True)
    assert [r["text"].strip() for r in replies] == [ANSWER]
    return question


async def ask_posts(deployed: Deployment) -> list[str]:
    """The answers' workflows that recorded the question's post as one of their steps."""
    url = deployed.database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT workflow_uuid FROM dbos.operation_outputs WHERE function_name = $1", ASK_STEP
        )
        return [row["workflow_uuid"] for row in rows]
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def one_replica_one_worker(sandbox, model, tmp_path) -> AsyncIterator[Deployment]:
    """worker-1 and one ack-only replica, which the sandbox sends its requests to."""
    model.default = Text(ANSWER, delay=0.01)
    async with deployment(sandbox, model, tmp_path) as deployed:
        await deployed.work("worker-1")  # alone: it creates DBOS's tables
        await deployed.serve(1)
        sandbox.request_url = deployed.replicas[0]
        yield deployed


async def test_ask_through_a_replica_is_posted_and_answered_by_the_worker(
    sandbox, model, tmp_path
) -> None:
    async with one_replica_one_worker(sandbox, model, tmp_path) as deployed:
        result = await sandbox.run_command("alice", "general", "/ask", QUESTION)
        assert result["status"] == 200 and not result["failed"]
        await asked_once_and_answered(deployed, within=120)
        assert QUESTION in str(model.requests[-1].json["messages"])
        assert await ask_posts(deployed) == [f"command:{result['trigger_id']}"]

        # Where Teammate is not a member: the asker alone is told; nothing is posted.
        result = await sandbox.run_command("alice", "private-ops", "/ask", "hello?")
        assert not result["failed"]
        notes = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "private-ops"), 120)
        assert "/invite @Teammate" in notes[-1]["text"]
        await deployed.finished_sessions(2, within=60)
        assert sandbox.channel_messages("private-ops") == []
        assert len(model.requests) == 1


def is_question(args: dict) -> bool:
    return "asked:" in str(args.get("text"))


async def test_a_worker_killed_as_slack_posted_the_question_adopts_it_on_its_restart(
    sandbox, model, tmp_path
) -> None:
    async with one_replica_one_worker(sandbox, model, tmp_path) as deployed:
        # Slack posts the question and the worker dies before it hears back.
        with sandbox.holding("chat.postMessage", is_question) as held:
            result = await sandbox.run_command("alice", "general", "/ask", QUESTION)
            assert not result["failed"]
            await held.seen(HELD_WITHIN)
            deployed.kill("worker-1")
        [cut] = questions(deployed)
        assert model.requests == []
        await deployed.work("worker-1")  # the same executor id: it resumes what it left
        question = await asked_once_and_answered(deployed, within=120)
        assert question["ts"] == cut["ts"]  # the question Slack had posted, not a second one
        assert len(model.requests) == 1
