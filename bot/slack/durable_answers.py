"""Answers as durable runs: an answer is a DBOS workflow whose id is its claim's key.

The handler, under the claim, starts the workflow and waits for it (or, when workers run the
sessions, queues it for them and is done); a second start with the
same key (a Slack retry that took the claim over, another replica) attaches to the workflow
that exists instead of answering again. The workflow's body is the answer itself (read the
thread, run the agent, draw its events into Slack); inside it each model request and each call
of a tool that writes or reaches outside is a recorded step (:mod:`bot.core.durable.steps`).
When the process dies mid-answer, the next start of the same executor resumes the workflow with
no Slack retry, and a Slack retry that reaches another replica once the dead one's lease ran out
resumes it there (a replica that only acknowledges, when a worker died, puts it back on its
queue for a live worker): the body runs again, adopts the claim and, as in every take-over, the
responder first deletes the half-written message; the requests and tool calls that completed
return what they recorded (the model is not asked again, the tool does not run again), their
text is drawn again at once, and the answer goes on live from the step the crash cut. The
thread ends with one complete answer.

DBOS finds workflows and steps by name in a registry global to the process, and a resumed
workflow receives only its stored inputs (plain data), so what an answer needs (the Slack
client, the responder, the claims) is installed once at start with :meth:`install`.

A `/ask` handed to workers comes with its question still to post: the workflow's first step
(``teammate.ask.post``) posts it and records its ts, and the answer goes in that thread. A
resume returns the recorded ts; one cut between Slack posting the question and the step being
recorded looks for the question by its mark before posting (only then: a first run never
reads the channel).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.durable.steps import DurableSteps
from bot.core.references import new_reference
from bot.core.store import Claim, ClaimOutcome, ClaimStore
from bot.slack import questions
from bot.slack.questions import AskedQuestion
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.responder import Question, Responder
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bot.core.durable.queues import ClientQueue

log = logging.getLogger("teammate.slack.durable")

ASK_STEP = "teammate.ask.post"

_installed: DurableAnswers | None = None


class DurableAnswers:
    """Runs each answer as a workflow, and the answers a restart resumes."""

    def __init__(
        self,
        responder: Responder,
        claims: ClaimStore,
        client: AsyncWebClient,
        tracker: WorkTracker,
        on_failure: Callable[[AsyncWebClient, str, str, str], Awaitable[None]],
        *,
        workers: ClientQueue | None = None,
    ) -> None:
        self.responder = responder
        self.workers = workers
        """Set when workers run the answers: this process only enqueues them (and queues
        again one a dead worker left, when a Slack retry takes its claim over)."""
        self.claims = claims
        self.client = client
        self.tracker = tracker
        self.on_failure = on_failure
        self._handled: set[str] = set()
        """Keys whose answer a handler in this process is waiting for (it holds the claim)."""

    def install(self) -> None:
        """Make this the process's answerer for the workflows DBOS runs or resumes, its runs'
        model requests and risky tool calls recorded steps."""
        global _installed
        _installed = self
        self.responder.agent.steps = DurableSteps()

    async def answer(self, question: Question) -> ReplyOutcome | None:
        """Answer ``question`` in its workflow (the claim's key): started, or joined when it
        already exists; one a dead replica left is run here."""
        key = question.claim.key
        if self.workers is not None:
            taken_over = question.claim.outcome is ClaimOutcome.TAKEN_OVER
            if not (taken_over and await self.workers.take_back(key)):
                await _hand_to_workers(self.workers, self.claims, question)
            return None
        self._handled.add(key)
        try:
            handle = None
            if question.claim.outcome is ClaimOutcome.TAKEN_OVER:
                handle = await self._left_by_the_dead(key)
            if handle is None:
                with SetWorkflowID(key):
                    handle = await DBOS.start_workflow_async(answer_workflow, _request(question))
            return await handle.get_result()
        finally:
            self._handled.discard(key)

    async def _left_by_the_dead(self, key: str) -> WorkflowHandleAsync[Any] | None:
        """The workflow of a claim taken over (its owner stopped renewing the lease: it died).
        Left PENDING by another executor, it is resumed here rather than waiting for that one
        to come back; this executor's own is being resumed by its start, and is joined."""
        status = await DBOS.get_workflow_status_async(key)
        if status is None:
            return None
        if status.status == "PENDING" and status.executor_id != DBOS.executor_id:
            log.info("resuming %s, left by executor %s", key, status.executor_id)
            return await DBOS.resume_workflow_async(key)
        return await DBOS.retrieve_workflow_async(key)

    async def run(self, request: dict[str, Any]) -> ReplyOutcome | None:
        """The answer, as the workflow's body. Awaited by a handler here, the claim is held by
        it; resumed after a crash, it is adopted and held here, and the answer counts as work
        in flight for a graceful stop. Either way a dead owner's half answer is replaced."""
        key = request["key"]
        claim = await self.claims.adopt(key)
        asked = request.get("asked")
        question = Question(
            claim,
            self.client,
            ReplyTarget(**request["target"]),
            text=request["text"],
            deep=request["deep"],
            asked_ts=request["asked_ts"],
            message=request["message"],
            asked=AskedQuestion(**asked) if asked else None,
        )
        if key in self._handled:
            return await self._answer(question)
        if claim.outcome is ClaimOutcome.TAKEN_OVER:  # a dead run's: not a task's first run
            log.info("resuming the answer of %s", key)
        async with self.tracker.busy(), self.tracker.slot(), self.claims.held(claim):
            if question.asked is not None:
                ts = await _post_question(self.client, question.asked, claim)
                if ts is None:  # not in the channel: the asker was told
                    return None
                question = replace(question, target=replace(question.target, thread_ts=ts))
            return await self._answer(question)

    async def _answer(self, question: Question) -> ReplyOutcome | None:
        target = question.target
        try:
            return await self.responder.answer(question)
        except Exception:
            reference = new_reference()
            log.exception("answer failed in %s ref=%s", target.channel, reference)
            await self.on_failure(self.client, target.channel, target.thread_ts, reference)
            return None


async def _hand_to_workers(workers: ClientQueue, claims: ClaimStore, question: Question) -> None:
    """Queue the answer for a worker, which adopts the claim to record its replies; once
    queued the event is handled as far as Slack is concerned, and its claim is marked done in
    the same transaction. A retry of one queued already attaches to it (same id)."""
    finished = await workers.enqueue(
        answer_workflow,
        _request(question),
        workflow_id=question.claim.key,
        workspace=question.target.team_id,
        finishing=question.claim,
    )
    if finished:
        claims.finished_elsewhere(question.claim)


def _request(question: Question) -> dict[str, Any]:
    """The workflow's stored input: what it takes to answer again after a restart."""
    return {
        "key": question.claim.key,
        "target": asdict(question.target),
        "text": question.text,
        "deep": question.deep,
        "asked_ts": question.asked_ts,
        "message": question.message,
        "asked": asdict(question.asked) if question.asked else None,
    }


@DBOS.step(name=ASK_STEP)
async def _post_question(client: AsyncWebClient, asked: AskedQuestion, claim: Claim) -> str | None:
    """The question's ts, posted now, or found where a cut run of this claim had posted it;
    None when Teammate is not in the channel (the asker is told)."""
    if claim.outcome is ClaimOutcome.TAKEN_OVER:
        found = await questions.asked_before(client, asked, claim.key)
        if found is not None:
            log.info("%s: adopting the question a cut run had posted", claim.key)
            return found
    return await questions.ask(client, asked, claim.key)


def _answerer() -> DurableAnswers:
    if _installed is None:
        raise RuntimeError("no answerer installed: DurableAnswers.install() runs at start")
    return _installed


@DBOS.workflow(name="teammate.answer")
async def answer_workflow(request: dict[str, Any]) -> ReplyOutcome | None:
    """One answer, recorded: its id is the claim's key; its steps are its model requests and
    risky tool calls."""
    return await _answerer().run(request)


async def answer_in_workflow(request: dict[str, Any]) -> ReplyOutcome | None:
    """An answer as part of the calling workflow (a task's): its model requests and risky tool
    calls are that workflow's steps, so it runs wherever that workflow runs."""
    return await _answerer().run(request)
