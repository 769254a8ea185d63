"""Decisions on approval prompts: a click by the asker or an admin, or the timeout.

A click is checked first (only the person who asked, or a workspace admin, may decide; anyone
else is told so privately and nothing happens), then decided in the core with one conditional
update, so a double click or a second replica finds the call decided and does nothing more.
The prompt's buttons are replaced by the decision, and the one decision that completes a paused
answer resumes it in its thread, in a new message drawn by the same renderer. "Always allow"
also approves the calls of that tool still waiting in the channel (they would not be asked
now), and resumes the answers that completes. A paused task's
answer goes on as that task (:meth:`TaskRuns.resumed`): its budgets and plan, then its end.
With durable answers, that resumed part is a workflow of its own (bot.slack.durable_resumes).

A sweeper in the process counts calls nobody decided in time as denied — also, at start, the
ones that expired while the process was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.approvals import Approval, Approvals, Outcome, PausedRun
from bot.core.background import cancel_and_wait
from bot.core.references import new_reference
from bot.slack.admins import Admins
from bot.slack.render import approval_view
from bot.slack.responder import Responder
from bot.slack.services import tell_something_went_wrong
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from bot.slack.durable_resumes import DurableResumes
    from bot.slack.task_runs import TaskRuns

log = logging.getLogger("teammate.slack.approvals")


class ApprovalDesk:
    def __init__(
        self,
        approvals: Approvals,
        responder: Responder,
        tracker: WorkTracker,
        admins: Admins,
    ) -> None:
        self.approvals = approvals
        self.responder = responder
        self.tracker = tracker
        self.admins = admins
        self.tasks: TaskRuns | None = None
        """Set when tasks run here: a paused task's answer resumes as the task."""
        self.durable: DurableResumes | None = None
        """Set with durable answers: the resumed part runs as a workflow of its own."""
        self._sweeper: asyncio.Task[None] | None = None

    async def click(self, client: AsyncWebClient, body: dict) -> None:
        """A click on Approve, Deny or Always allow."""
        action = body["actions"][0]
        user = (body.get("user") or {}).get("id", "")
        approval = await self.approvals.approval(action.get("value") or "")
        if approval is None:
            log.warning("a click on an unknown approval %r", action.get("value"))
            return
        if not approval.pending:
            await self._tell(
                client, approval, user, approval_view.already(approval.state, approval.decided_by)
            )
            return
        if user != approval.asker and not await self.admins.is_admin(client, user):
            log.info("%s may not decide approval %s", user, approval.id)
            await self._tell(client, approval, user, approval_view.not_yours(approval.asker))
            return
        choice = action["action_id"]
        outcome: Outcome = "denied" if choice == approval_view.DENY else "approved"
        decided = await self.approvals.decide(
            approval.id, outcome, user, always=choice == approval_view.ALWAYS
        )
        if decided is None:
            return
        if not decided.taken:
            said = approval_view.already(decided.approval.state, decided.approval.decided_by)
            await self._tell(client, approval, user, said)
            return
        log.info("approval %s of %s: %s by %s", approval.id, approval.tool, outcome, user)
        shown = decided.approval
        if not shown.prompt_ts:  # clicked before the prompt's ts was stored: it is this message
            shown = replace(shown, prompt_ts=_clicked_message(body))
        await self._show(client, shown)
        meanwhile = []
        if choice == approval_view.ALWAYS:
            meanwhile = await self.approvals.allowed_meanwhile(approval.channel, shown.tool, user)
        for other in meanwhile:
            log.info("approval %s of %s: always allowed by %s", other.approval.id, shown.tool, user)
            await self._show(client, other.approval)
        runs = [d.resume for d in (decided, *meanwhile) if d.resume is not None]
        await asyncio.gather(*(self._resume(client, run) for run in runs))

    async def sweep(self, client: AsyncWebClient) -> int:
        """Count every call past its time as denied, and resume what that completes."""
        expired = await self.approvals.expire_due()
        for decided in expired:
            log.info("approval %s of %s expired", decided.approval.id, decided.approval.tool)
            await self._show(client, decided.approval)
            if decided.resume is not None:
                await self._resume(client, decided.resume)
        return len(expired)

    def start(self, client: AsyncWebClient) -> None:
        """Run the sweeper in the background, first at once."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(client))

    async def stop(self) -> None:
        await cancel_and_wait(self._sweeper)
        self._sweeper = None

    async def _sweep_forever(self, client: AsyncWebClient) -> None:
        interval = min(max(self.approvals.timeout / 4, 0.2), 30.0)
        while self.tracker.accepting:
            try:
                async with self.tracker.busy():
                    await self.sweep(client)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.warning("approval sweep failed", exc_info=True)
            await asyncio.sleep(interval)

    async def _resume(self, client: AsyncWebClient, run: PausedRun) -> None:
        scope = run.scope
        try:
            async with self.tracker.slot():
                if self.durable is not None:
                    await self.durable.resume(run)
                elif self.tasks is None:
                    await self.responder.resume(client, run)
                else:
                    await self.tasks.resumed(
                        client,
                        scope,
                        lambda: self.responder.resume(client, run),
                        self.responder.claims,
                    )
        except Exception:
            reference = new_reference()
            log.exception("resuming %s failed ref=%s", run.id, reference)
            await tell_something_went_wrong(client, scope.channel_id, scope.thread_ts, reference)

    async def _show(self, client: AsyncWebClient, approval: Approval) -> None:
        """Replace the prompt's buttons by the decision."""
        if not approval.prompt_ts:
            return
        text, blocks = approval_view.decided(
            approval.tool,
            approval.risk,
            approval.args,
            approval.state,
            approval.decided_by,
            approval.decided_at,
            approval.always,
        )
        try:
            await client.chat_update(
                channel=approval.channel, ts=approval.prompt_ts, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("could not show the decision on %s: %s", approval.id, exc)

    async def _tell(self, client: AsyncWebClient, approval: Approval, user: str, text: str) -> None:
        """A note only ``user`` sees, in the prompt's thread."""
        with contextlib.suppress(SlackApiError):
            await client.chat_postEphemeral(
                channel=approval.channel, user=user, thread_ts=approval.thread_ts, text=text
            )


def _clicked_message(body: dict) -> str | None:
    """The ts of the message whose button was clicked."""
    return (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")
