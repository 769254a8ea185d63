"""Answers one question in a Slack thread, exactly once.

This is where the pieces meet: under the claim taken by the dedupe middleware (held by the
caller), the thread is read, the core agent streams its events (thinking longer when the
question or the channel asks for it), and `SlackReply` draws them, its reasoning kept for the
answer's "Show reasoning" button.
A claim taken over from a process that died mid-answer first removes the half-written
messages it left, so the thread ends with one complete answer. The core records each
answer's usage itself.

Nothing stands in front of the model's request that the answer does not need: joining the
thread, the "is thinking…" status and noting the posted messages run beside the answer
(bot.slack.side_writes bounds the database writes among them), and the status is dropped once
the first words show, since Slack clears it then anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import wording
from bot.core.agent import AgentService
from bot.core.approvals import Approvals, PausedRun
from bot.core.conversation import Conversation
from bot.core.events import AgentEvent, Failed
from bot.core.memory import Briefing
from bot.core.references import new_reference
from bot.core.store import (
    ChannelSettings,
    Claim,
    ClaimOutcome,
    ClaimStore,
    ReasoningStore,
    ThreadStore,
)
from bot.slack import marks
from bot.slack.client import without_rate_limit_retries
from bot.slack.context import ThreadReader
from bot.slack.questions import AskedQuestion
from bot.slack.reasoning import ReasoningKeeper
from bot.slack.render import approval_view
from bot.slack.render.limiter import shared_limiter, workspace_key
from bot.slack.render.writer import retry_after
from bot.slack.reply import ReplyOutcome, ReplyTarget, SlackReply
from bot.slack.side_writes import SideWrites

log = logging.getLogger("teammate.slack.responder")

THINKING_STATUS = "is thinking…"
STATUS_TIMEOUT = 2.0


@dataclass
class Question:
    """A request to answer in a thread. With ``text`` set, the conversation is that one
    question (a slash command); otherwise it is the whole thread. ``asked_ts`` is the message
    that asked (default: the thread's parent); Teammate's answer always comes after it.
    ``message`` is that message as its event carried it: when it opens its thread (and this is
    no take-over of a half-written answer), it is the whole conversation. ``deep``: True or
    False as the person asked (``--deep``, ``--no-deep``), None for the channel's default.
    ``asked``: a `/ask` whose question is still to be posted, by the worker that answers it
    (the target's thread is that post's, so it has no ts yet)."""

    claim: Claim
    client: AsyncWebClient
    target: ReplyTarget
    text: str | None = None
    deep: bool | None = None
    asked_ts: str | None = None
    message: dict | None = None
    asked: AskedQuestion | None = None


class Responder:
    def __init__(
        self,
        agent: AgentService,
        claims: ClaimStore,
        threads: ThreadStore,
        reader: ThreadReader,
        *,
        stream_interval: float = 1.0,
        channel_settings: ChannelSettings | None = None,
        reasoning: ReasoningStore | None = None,
        approvals: Approvals | None = None,
    ) -> None:
        self.agent = agent
        self.approvals = approvals
        self.claims = claims
        self.threads = threads
        self.reader = reader
        self.channel_settings = channel_settings
        self.reasoning = reasoning
        self.stream_interval = stream_interval
        self.streaming = True
        self.side_writes = SideWrites()

    async def answer(self, question: Question) -> ReplyOutcome:
        claim, client, target = question.claim, question.client, question.target
        if claim.outcome is ClaimOutcome.TAKEN_OVER:
            asked = float(question.asked_ts or target.thread_ts)
            await self._remove_leftovers(client, target, claim, after=asked)
        writes = self.side_writes.for_answer()
        writes.start("join the thread", lambda: self._join(question))
        status = asyncio.create_task(self._set_status(client, target, THINKING_STATUS))

        async def remember(message_ts: list[str]) -> None:
            status.cancel()  # the first words show: Slack clears the status itself
            writes.replace(
                "note the posted messages",
                lambda: self.claims.record_replies(claim, target.channel, message_ts),
            )

        keeper = ReasoningKeeper(self.reasoning, target) if self.reasoning else None
        reply = self._reply(client, target, remember, claim, keeper.id if keeper else None)
        events = self._events(question)
        try:
            outcome = await reply.draw(keeper.watch(events, reply.view) if keeper else events)
        finally:
            status.cancel()
            await writes.wait()
        if keeper is not None:
            await keeper.posted(outcome.message_ts)
        self.streaming = reply.streaming  # Slack clears the status itself once a reply is posted
        await self._ask_for_approvals(client, target, outcome, claim)
        return outcome

    async def resume(
        self, client: AsyncWebClient, run: PausedRun, claim: Claim | None = None
    ) -> ReplyOutcome:
        """Go on with an answer that paused for approvals, in a new message of its thread.
        Under a ``claim`` (a durable resume) the messages it posts are recorded, and a claim
        taken over from a dead run first deletes the ones that run had posted (after the
        run's prompts: the answer's part before them stays)."""
        scope = run.scope
        target = ReplyTarget(scope.channel_id, scope.thread_ts, scope.team_id, scope.user_id)
        remember = None
        if claim is not None:
            if claim.outcome is ClaimOutcome.TAKEN_OVER:
                await self._remove_leftovers(client, target, claim, after=run.asked_at)
            remember = functools.partial(self.claims.record_replies, claim, target.channel)
        reply = self._reply(client, target, remember, claim)
        outcome = await reply.draw(self.agent.resume(run))
        self.streaming = reply.streaming
        await self._ask_for_approvals(client, target, outcome, claim)
        return outcome

    def _reply(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        on_message: Callable[[list[str]], Awaitable[None]] | None,
        claim: Claim | None,
        reasoning_id: str | None = None,
    ) -> SlackReply:
        """The answer's drawing; each message it completes carries the claim's mark."""
        return SlackReply(
            client,
            target,
            interval=self.stream_interval,
            streaming=self.streaming,
            on_message=on_message,
            reasoning_id=reasoning_id,
            metadata=marks.mark(marks.ANSWER, claim=claim.key) if claim is not None else None,
        )

    async def _ask_for_approvals(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        outcome: ReplyOutcome,
        claim: Claim | None,
    ) -> None:
        """Post a prompt, addressed to the asker, for each call a paused answer waits on. The
        prompts count among the answer's messages (``claim``) and carry its mark (the call and
        the claim): a durable answer resumed after a crash deletes them with the rest, those
        it had no time to record too, and draws them again, naming the same calls (its paused
        run is a step), so the thread shows each prompt once; one decided meanwhile (a click
        on the cut prompt, "Always allow" in the channel) shows its decision instead of
        asking again."""
        approvals = self.approvals
        if approvals is None or not outcome.approvals:
            return
        again = claim is not None and claim.outcome is ClaimOutcome.TAKEN_OVER
        posted = []
        for needed in outcome.approvals:
            decided = await approvals.approval(needed.approval_id) if again else None
            if decided is not None and not decided.pending:
                text, blocks = approval_view.decided(
                    decided.tool,
                    decided.risk,
                    decided.args,
                    decided.state,
                    decided.decided_by,
                    decided.decided_at,
                    decided.always,
                )
            else:
                text, blocks = approval_view.prompt(
                    target.user_id,
                    needed.tool,
                    needed.risk,
                    needed.args,
                    needed.approval_id,
                    approvals.timeout,
                )
            prompt = await client.chat_postMessage(
                channel=target.channel,
                thread_ts=target.thread_ts,
                text=text,
                blocks=blocks,
                metadata=marks.mark(
                    marks.APPROVAL_PROMPT,
                    approval_id=needed.approval_id,
                    claim=claim.key if claim is not None else "",
                ),
            )
            posted.append(prompt["ts"])
            await approvals.set_prompt(needed.approval_id, prompt["ts"])
        if claim is not None:
            await self.claims.record_replies(claim, target.channel, outcome.message_ts + posted)

    async def _events(self, question: Question) -> AsyncIterator[AgentEvent]:
        try:
            conversation, briefing = await self.agent.once("start", lambda: self._start(question))
        except SlackApiError as exc:
            reference = new_reference()
            log.error(
                "could not read the thread ref=%s error=%s", reference, exc.response.get("error")
            )
            yield Failed(wording.THREAD_UNREADABLE, reference)
            return
        async for event in self.agent.stream(conversation, briefing):
            yield event

    async def _start(self, question: Question) -> tuple[Conversation, Briefing | None]:
        """What the answer's first request is built from: the thread (deep or not) and the
        memory's briefing. Read once per answer: a durable one resumed after a crash builds
        its requests from what its first run read, whatever the thread holds now."""
        channel_deep = (
            asyncio.ensure_future(self._channel_deep(question.target.channel))
            if question.deep is None
            else None
        )
        try:
            conversation = await self._conversation(question)
        except BaseException:
            if channel_deep is not None:
                channel_deep.cancel()
            raise
        conversation.deep = await channel_deep if channel_deep is not None else bool(question.deep)
        conversation.key = question.claim.key
        return conversation, await self.agent.brief(conversation)

    async def _conversation(self, question: Question) -> Conversation:
        target, client = question.target, question.client
        where = (client, target.channel, target.thread_ts, target.user_id, target.team_id)
        if question.text is not None:
            return await self.reader.question(*where, question.text)
        message = question.message
        if (
            message is not None
            and message.get("ts") == target.thread_ts
            and question.claim.outcome is ClaimOutcome.NEW
        ):
            return await self.reader.opening(client, message, target.user_id, target.team_id)
        return await self.reader.conversation(*where)

    async def _join(self, question: Question) -> None:
        """Teammate is in the thread from the question on: later replies need no mention."""
        target = question.target
        await self.threads.join(
            target.channel,
            target.thread_ts,
            target.team_id,
            target.user_id,
            since_ts=question.asked_ts or target.thread_ts,
        )

    async def _channel_deep(self, channel: str) -> bool:
        """Whether the channel asked for deep mode on every answer (``/teammate deep on``)."""
        return self.channel_settings is not None and await self.channel_settings.deep(channel)

    async def _remove_leftovers(
        self, client: AsyncWebClient, target: ReplyTarget, claim: Claim, after: float
    ) -> None:
        """Delete what a dead owner of this claim posted: the messages it recorded, those
        after ``after`` (the question; a resumed part's prompts) marked with its claim, and
        those of Teammate's after it with no mark at all that no other run recorded (a crash
        can come between Slack creating a message and the claim recording it; a message
        being streamed carries no metadata until it is stopped, so a half answer has none). A
        message marked by another run (its prompt, a task's closing line) stays, recorded or
        not."""
        leftovers, unmarked = set(claim.previous_replies), set()
        with contextlib.suppress(SlackApiError):
            thread = await self.reader.messages(client, target.channel, target.thread_ts)
            for message in thread:
                if not self.reader.is_ours(message) or float(message["ts"]) <= after:
                    continue
                kind, _ = marks.carried(message)
                if kind is None:
                    unmarked.add(message["ts"])
                elif marks.claim_of(message) == claim.key:
                    leftovers.add(message["ts"])
        leftovers |= unmarked - await self.claims.replies_of_others(target.channel, claim.key)
        for ts in sorted(leftovers):
            with contextlib.suppress(SlackApiError):
                await client.chat_delete(channel=target.channel, ts=ts)
        log.info("took over %s; removed %d half-written messages", claim.key, len(leftovers))

    async def _set_status(self, client: AsyncWebClient, target: ReplyTarget, status: str) -> None:
        """Since 2026-03 this works in any thread with chat:write. It is only a hint: it runs
        beside the answer, waits for its turn in the workspace's lane (Tier 3, shared by every
        answer) and gives up quickly, so a crowd of answers skips it rather than drawing 429s. It
        goes without the client's 429 retries: a refused status is not worth a second try."""
        lane = shared_limiter().lane(workspace_key(client.token), "assistant.threads.setStatus")
        with contextlib.suppress(SlackApiError, TimeoutError):
            async with asyncio.timeout(STATUS_TIMEOUT), lane.call():
                try:
                    await without_rate_limit_retries(client).assistant_threads_setStatus(
                        channel_id=target.channel, thread_ts=target.thread_ts, status=status
                    )
                except SlackApiError as exc:
                    if (wait := retry_after(exc)) is not None:
                        lane.refused(wait)  # the next answers skip it sooner
                    raise
