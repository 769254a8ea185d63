"""The same conversation on PostgreSQL, as run with many replicas."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import Text
from bot.testkit.stack import Stack, bot_settings, running_bot
from tests.conftest import postgres_database
from tests.e2e.test_exactly_once import mention_event_id


@pytest.fixture
async def two_replicas(sandbox, model, tmp_path):
    """Two bot processes' worth of runtime sharing one PostgreSQL database: in one process,
    so without durable answers (DBOS is one per process; durable replicas are processes of
    their own in test_durable_answers)."""
    async with postgres_database() as db:
        settings = bot_settings(
            sandbox, model, tmp_path, database_url=db.url, durable_answers=False
        )
        async with running_bot(settings, sandbox) as (first, first_url):
            async with running_bot(settings, sandbox) as (second, second_url):
                yield Stack(sandbox, model, first, first_url), second_url


async def test_replicas_on_postgres_answer_each_event_once(two_replicas) -> None:
    stack, second_url = two_replicas
    stack.model.script(Text("Only once, from either replica.", delay=0.02))
    stack.sandbox.request_url = stack.bot_url
    posted = stack.mention("who answers?")
    event_id = mention_event_id(stack, posted)
    await stack.sandbox.wait_for(lambda: stack.model.requests)  # the first replica is answering
    stack.sandbox.request_url = second_url  # Slack's retry lands on the other replica
    await stack.sandbox.redeliver(event_id, retry_num=1)
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].strip() == "Only once, from either replica."
    await stack.sandbox.settle()
    assert len(stack.sandbox.replies("general", posted["ts"], from_bot=True)) == 1
    assert len(stack.model.requests) == 1
