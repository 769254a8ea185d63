"""What handlers need, in one place, built once at start by bot.app."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store import Claim, ClaimStore, ThreadStore
from bot.slack.context import BotIdentity
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
        """Answer in ``target``'s thread under the request's claim (None if it has none)."""
        claim: Claim | None = context.get("claim")
        if claim is None:
            log.warning("no claim for an answer in %s; skipped", target.channel)
            return None
        question = Question(claim, client, target, text=text, deep=deep, asked_ts=asked_ts)
        async with self.claims.held(claim), self.tracker.track():
            return await self.responder.answer(question)

    async def skip(self, context: dict) -> None:
        """Mark the request's claim done without answering (the event was not for us)."""
        claim: Claim | None = context.get("claim")
        if claim is not None:
            await self.claims.finish(claim)
