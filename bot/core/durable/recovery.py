"""Hand the runs of an executor that will not come back to the ones that are running.

A process that dies leaves its workflows PENDING under its executor id; its own next start
resumes them. When it will not start again (a worker removed, a host lost), `teammate recover
EXECUTOR_ID` puts them back on their queue (a session on the sessions queue, where the
workspace limit holds), and whichever running process takes them next
resumes each at its last recorded step. This talks to DBOS's tables through ``DBOSClient``,
which runs no workflow itself: the command's process has no Slack connection to answer with.
"""

from __future__ import annotations

import asyncio

from dbos import DBOSClient

from bot.core.durable.engine import SCHEMA, system_database_url


async def hand_over(database_url: str, executor_id: str) -> list[str]:
    """Queue again every PENDING workflow of ``executor_id``; their ids. Only for an executor
    that is gone: one still running would go on with them too."""
    client = await asyncio.to_thread(
        DBOSClient,
        system_database_url=system_database_url(database_url),
        dbos_system_schema=SCHEMA,
    )
    try:
        pending = await client.list_workflows_async(
            status="PENDING", executor_id=executor_id, load_input=False, load_output=False
        )
        ids = [workflow.workflow_id for workflow in pending]
        by_queue: dict[str | None, list[str]] = {}
        for workflow in pending:  # each back on its own queue, so its limits hold
            by_queue.setdefault(workflow.queue_name, []).append(workflow.workflow_id)
        for queue_name, queued in by_queue.items():
            await client.resume_workflows_async(queued, queue_name=queue_name)
        return ids
    finally:
        await asyncio.to_thread(client.destroy)
