"""Starts the task an answer's model handed over with ``start_task`` (bot.core.tasks.handover).

The task starts as ``/task <goal>`` starts one (bot.slack.task_desk): its card in the channel,
the work and the report in the card's thread, the asker as its requester. Starting it is a job
of its own, beside the answer that handed it over and outside its context (a durable answer's
step cannot start another durable run), counted as work in flight (so a graceful stop waits
for it as for any answer): the tool returns once the card is posted, and the answer goes on
to say so; the task works apart, as every task does.

The job holds a claim keyed ``handover:<answer's claim key>:<tool call id>``, as a scheduled run
holds ``schedule:<id>:<slot>``, and the task it starts is keyed by that claim: the same call
made again (the answer run again) finds the claim taken and gets the task it started, not a
second one, whatever other tasks have the same goal; so does a call whose claim is taken over
from a process that died after posting the card (the task's own run resumes on its own when
answers are durable). Taken over before the card was posted, the call posts it and starts the
task it had recorded, or records it then.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store import Claim, ClaimOutcome
from bot.core.store.tasks import task_id_for
from bot.core.tasks.handover import HandedOver, Handover, Refused
from bot.core.tasks.model import Task
from bot.slack.exactly_once import Work

if TYPE_CHECKING:
    from bot.slack.services import Services

log = logging.getLogger("teammate.slack.task_handover")

NOT_NOW = "Teammate is restarting and takes no new tasks now: ask again in a minute."
COULD_NOT_START = "The task could not start; the log has the detail."
IN_THE_THREAD = "the thread of its card in this channel"
STARTED_ALREADY = "This request was handed over as a task already; its card is in the channel."


class TaskHandover:
    """The Slack side of ``start_task``; :meth:`install` once the services are built (the
    agent, which offers the tool, is built before them)."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._client: AsyncWebClient | None = None
        self._jobs: set[asyncio.Task[str | None]] = set()

    def install(self, services: Services, client: AsyncWebClient) -> None:
        self._services, self._client = services, client

    async def start(self, handover: Handover) -> HandedOver:
        services, client = self._services, self._client
        if services is None or client is None or services.tasks is None:
            raise Refused("Tasks are not available here.")
        if not services.tracker.accepting:
            raise Refused(NOT_NOW)
        claim = await services.claims.claim(handover.key)
        if claim.outcome is not ClaimOutcome.NEW:  # the call was made before
            found = await self._started_already(services, client, handover)
            if found is not None:  # (its task resumes with its own durable run, if any)
                if claim.acquired:
                    await services.claims.finish(claim)
                return found
            if not claim.acquired:
                raise Refused(STARTED_ALREADY)
        card: asyncio.Future[Task] = asyncio.get_running_loop().create_future()
        # A context of its own: the answer's (a durable step's, when answers are durable) would
        # make the task's own durable run a child of that step, which DBOS refuses.
        job = asyncio.create_task(
            self._run(services, client, claim, handover, card), context=contextvars.Context()
        )
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        waiting: set[asyncio.Future[Any]] = {card, job}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if card.done():
            return HandedOver(card.result().short_id, await _where(client, card.result()))
        raise Refused(job.result() or COULD_NOT_START)

    async def _run(
        self,
        services: Services,
        client: AsyncWebClient,
        claim: Claim,
        handover: Handover,
        card: asyncio.Future[Task],
    ) -> str | None:
        """Start the task under the call's claim; the refusal line when it could not start."""
        assert services.tasks is not None
        scope = handover.scope

        def posted(task: Task) -> None:
            if not card.done():
                card.set_result(task)

        async with services.tracker.busy():
            try:
                async with services.claims.held(claim):
                    log.info("an answer handed over a task (%s)", handover.key)
                    return await services.tasks.start(
                        Work(claim),
                        services,
                        client,
                        team_id=scope.team_id,
                        channel=scope.channel_id,
                        user=scope.user_id,
                        text=_task_text(handover),
                        on_card=posted,
                    )
            except Exception:
                log.exception("a handed-over task failed (%s)", handover.key)
                return COULD_NOT_START

    async def _started_already(
        self, services: Services, client: AsyncWebClient, handover: Handover
    ) -> HandedOver | None:
        """The task this call started before, once its card is up: the task is keyed by the
        call's claim (bot.core.store.tasks.task_id_for)."""
        assert services.tasks is not None
        task = await services.tasks.store.by_id(task_id_for(handover.key))
        if task is None or task.card_ts is None:
            return None
        return HandedOver(task.short_id, await _where(client, task), again=True)


def _task_text(handover: Handover) -> str:
    """The task as ``/task`` text: its options, then the goal."""
    options = []
    if handover.minutes is not None:
        options.append(f"--minutes {handover.minutes:g}")
    if handover.tokens is not None:
        options.append(f"--tokens {handover.tokens}")
    return " ".join([*options, handover.goal])


async def _where(client: AsyncWebClient, task: Task) -> str:
    """Where the task works, with a link to its card when Slack gives one."""
    try:
        link = await client.chat_getPermalink(channel=task.channel, message_ts=task.card_ts or "")
    except SlackApiError:
        return IN_THE_THREAD
    permalink = link.get("permalink")
    return f"{IN_THE_THREAD} ({permalink})" if permalink else IN_THE_THREAD
