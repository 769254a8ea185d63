"""What handlers may do, in one place, built once at start by bot.app.

Handlers never reach past this: they answer in a thread, ask whether a message is a follow-up
or a thread is new, read the suggested prompts, switch a channel's deep mode and open an
answer's reasoning. Each call takes the :class:`Work` its
handler was given, so only a request whose claim this process holds can be answered.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import wording
from bot.core.references import new_reference
from bot.core.store import ChannelSettings, ClaimStore, ReasoningStore, ThreadStore
from bot.slack import blocks, questions
from bot.slack.context import BotIdentity
from bot.slack.exactly_once import Work
from bot.slack.memory_desk import MemoryDesk
from bot.slack.parsing import parse_deep
from bot.slack.questions import AskedQuestion
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.responder import Question, Responder
from bot.slack.work import WorkTracker

if TYPE_CHECKING:
    from bot.slack.approvals import ApprovalDesk
    from bot.slack.durable_answers import DurableAnswers
    from bot.slack.schedule_desk import ScheduleDesk
    from bot.slack.task_desk import TaskDesk

log = logging.getLogger("teammate.slack")


@dataclass
class Services:
    responder: Responder
    claims: ClaimStore
    threads: ThreadStore
    identity: BotIdentity
    channel_settings: ChannelSettings
    reasoning: ReasoningStore
    tracker: WorkTracker = field(default_factory=WorkTracker)
    suggested_prompts: list[dict] = field(default_factory=list)
    memory: MemoryDesk | None = None
    approvals: ApprovalDesk | None = None
    durable: DurableAnswers | None = None
    """Set when answers run as durable workflows (TEAMMATE_DURABLE_ANSWERS)."""
    tasks: TaskDesk | None = None
    schedules: ScheduleDesk | None = None

    async def answer(
        self,
        work: Work,
        client: AsyncWebClient,
        target: ReplyTarget,
        *,
        text: str | None = None,
        deep: bool | None = None,
        asked_ts: str | None = None,
        message: dict | None = None,
        asked: AskedQuestion | None = None,
    ) -> ReplyOutcome | None:
        """Answer in ``target``'s thread; ``deep`` as the person asked (None: the channel's
        default).

        Whatever goes wrong, the person gets a short note with a reference rather than silence
        (Slack will not retry a request that was acknowledged).
        """
        try:
            question = Question(
                work.claim,
                client,
                target,
                text=text,
                deep=deep,
                asked_ts=asked_ts,
                message=message,
                asked=asked,
            )
            answer = self.durable.answer if self.durable else self.responder.answer
            async with self.tracker.slot():
                return await answer(question)
        except Exception:
            reference = new_reference()
            log.exception("answer failed in %s ref=%s", target.channel, reference)
            await tell_something_went_wrong(client, target.channel, target.thread_ts, reference)
            return None

    async def ask(
        self, work: Work, client: AsyncWebClient, asked: AskedQuestion, *, deep: bool | None
    ) -> ReplyOutcome | None:
        """Post a `/ask` question in its channel and answer it in that thread. When workers
        run the answers, the worker posts it, as the first step of the answer: this process
        only acknowledges and queues."""
        target = ReplyTarget(asked.channel, "", asked.team_id, asked.user)
        text = asked.question
        if self.durable is not None and self.durable.workers is not None:
            return await self.answer(work, client, target, text=text, deep=deep, asked=asked)
        ts = await questions.ask(client, asked, work.claim.key)
        if ts is None:
            return None
        target = replace(target, thread_ts=ts)
        return await self.answer(work, client, target, text=text, deep=deep)

    async def answer_message(
        self, work: Work, client: AsyncWebClient, body: dict, message: dict
    ) -> ReplyOutcome | None:
        """Answer a Slack message event in its thread (a new thread under it when it has none);
        "--deep" or "think hard" in its text asks for deep mode, "--no-deep" declines it."""
        deep = parse_deep(message.get("text", ""))
        target = ReplyTarget(
            channel=message["channel"],
            thread_ts=message.get("thread_ts") or message["ts"],
            team_id=message.get("team") or body.get("team_id", ""),
            user_id=message.get("user", ""),
        )
        return await self.answer(
            work, client, target, deep=deep, asked_ts=message["ts"], message=message
        )

    async def is_follow_up(self, message: dict) -> bool:
        """A message in a channel thread Teammate was asked in, after it was asked, that does
        not mention Teammate (a mention is answered as such)."""
        thread_ts = message.get("thread_ts")
        if thread_ts is None or message.get("channel_type") == "im":
            return False
        if f"<@{self.identity.user_id}>" in message.get("text", ""):
            return False
        return await self.threads.is_member(message["channel"], thread_ts, message["ts"])

    async def is_new_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether Teammate has not answered in this thread yet."""
        return not await self.threads.is_member(channel, thread_ts)

    async def set_deep(self, work: Work, channel: str, on: bool, team_id: str, user: str) -> None:
        """Deep mode for every answer in ``channel`` from now on (or no longer)."""
        await self.channel_settings.set_deep(channel, on, team_id, user)

    async def deep(self, channel: str) -> bool:
        return await self.channel_settings.deep(channel)

    async def reasoning_modal(self, reasoning_id: str, channel: str) -> dict:
        """The modal showing the reasoning behind an answer in ``channel``."""
        kept = await self.reasoning.get(reasoning_id, channel) if reasoning_id else None
        if kept is None:
            return blocks.reasoning_modal(None, kept_days=self.reasoning.keep_days)
        return blocks.reasoning_modal(kept.text, kept.cut, kept.model)


async def tell_something_went_wrong(
    client: AsyncWebClient, channel: str, thread_ts: str, reference: str
) -> None:
    """The short note a thread gets instead of silence when its answer broke (best effort)."""
    with contextlib.suppress(Exception):
        await client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=f":warning: {wording.SOMETHING_WENT_WRONG} (ref `{reference}`)",
        )
