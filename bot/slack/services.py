"""What handlers need, in one place, built once at start by bot.app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import new_reference
from bot.core.store import Claim, ClaimStore, ThreadStore
from bot.slack.context import BotIdentity
from bot.slack.parsing import parse_question
from bot.slack.reply import ReplyOutcome, ReplyTarget
from bot.slack.responder import Question, Responder
from bot.slack.work import WorkTracker

log = logging.getLogger("teammate.slack")


@dataclass
class Services:
    responder: Responder
    claims: ClaimStore
    threads: ThreadStore
    identity: BotIdentity
    tracker: WorkTracker = field(default_factory=WorkTracker)
    suggested_prompts: list[dict] = field(default_factory=list)

    async def answer(
        self,
        context: dict,
        client: AsyncWebClient,
        target: ReplyTarget,
        *,
        text: str | None = None,
        deep: bool = False,
        asked_ts: str | None = None,
    ) -> ReplyOutcome | None:
        """Answer in ``target``'s thread under the request's claim; None for a duplicate.

        Whatever goes wrong, the person gets a short note with a reference rather than silence
        (Slack will not retry a request that was acknowledged).
        """
        try:
            async with self.tracker.busy():
                claim = await self.claimed(context)
                if claim is None:
                    return None
                question = Question(claim, client, target, text=text, deep=deep, asked_ts=asked_ts)
                async with self.claims.held(claim), self.tracker.slot():
                    return await self.responder.answer(question)
        except Exception:
            reference = new_reference()
            log.exception("answer failed in %s ref=%s", target.channel, reference)
            with contextlib.suppress(Exception):
                await client.chat_postMessage(
                    channel=target.channel,
                    thread_ts=target.thread_ts,
                    text=f":warning: Something went wrong on my side; please ask again. "
                    f"(ref `{reference}`)",
                )
            return None

    async def answer_message(
        self, context: dict, client: AsyncWebClient, body: dict, message: dict
    ) -> ReplyOutcome | None:
        """Answer a Slack message event in its thread (a new thread under it when it has none);
        "--deep" or "think hard" in its text asks for deep mode."""
        _, deep = parse_question(message.get("text", ""))
        target = ReplyTarget(
            channel=message["channel"],
            thread_ts=message.get("thread_ts") or message["ts"],
            team_id=message.get("team") or body.get("team_id", ""),
            user_id=message.get("user", ""),
        )
        return await self.answer(context, client, target, deep=deep, asked_ts=message["ts"])

    async def claimed(self, context: dict) -> Claim | None:
        """The request's claim once it is written, or None when another process has it."""
        pending: asyncio.Future[Claim] | None = context.get("claim")
        if pending is None:
            log.warning("a request reached a handler without a claim; ignored")
            return None
        claim = await pending
        if not claim.acquired:
            log.info("dropped a duplicate of %s", claim.key)
            return None
        return claim

    async def skip(self, context: dict) -> None:
        """Mark the request's claim done without answering (the event was not for us)."""
        async with self.tracker.busy():
            claim = await self.claimed(context)
            if claim is not None:
                await self.claims.finish(claim)
