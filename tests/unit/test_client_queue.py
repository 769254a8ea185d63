"""A replica that only acknowledges queues an answer for the workers and marks its claim done
in one transaction, so a request costs it two writes, not three; a worker then adopts the
claim as new."""

from __future__ import annotations

import asyncio

from dbos import DBOSClient

from bot.core.durable import queues
from bot.core.durable.engine import SCHEMA, system_database_url
from bot.core.store import ClaimOutcome, ClaimStore
from bot.slack.durable_answers import answer_workflow
from tests.conftest import postgres_database


async def test_queued_with_its_claim_done_in_one_transaction() -> None:
    async with postgres_database() as db:
        replica = ClaimStore(db, "replica", lease_seconds=60.0)
        fed = queues.ClientQueue(db.url, per_workspace=2, max_tasks=1, linger=0.01)
        await fed.open()
        try:
            claims = await asyncio.gather(*(replica.claim(f"event:Q{i}") for i in range(3)))
            finished = await asyncio.gather(
                *(
                    fed.enqueue(
                        answer_workflow,
                        {"key": claim.key},
                        workflow_id=claim.key,
                        workspace="T1",
                        finishing=claim,
                    )
                    for claim in claims
                )
            )
            assert finished == [True, True, True]
            assert {await replica.state(claim.key) for claim in claims} == {"done"}
            worker = ClaimStore(db, "worker", lease_seconds=60.0)
            assert (await worker.adopt("event:Q0")).outcome is ClaimOutcome.NEW
            client = await asyncio.to_thread(
                DBOSClient,
                system_database_url=system_database_url(db.url),
                dbos_system_schema=SCHEMA,
            )
            try:
                queued = await client.list_workflows_async(queue_name=queues.SESSIONS_QUEUE)
            finally:
                await asyncio.to_thread(client.destroy)
            assert sorted(w.workflow_id for w in queued) == [c.key for c in claims]
            assert {w.status for w in queued} == {"ENQUEUED"}
        finally:
            await fed.close()
