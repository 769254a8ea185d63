"""Bolt middleware that claims each event, command and click before any work is done.

Slack re-sends an event it believes failed and several replicas may share one workspace; Bolt
itself dedupes nothing. The claim is written to the database in the background while Bolt
acknowledges the request (the answer to Slack is 200 either way, so the ack never waits for
the database); it rides in the request context as a task that the handler awaits before it
does anything, and a duplicate is dropped there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.response import BoltResponse

from bot.core.store import Claim, ClaimStore

log = logging.getLogger("teammate.slack.dedupe")


def claim_key(body: dict, bot_user_id: str | None = None) -> str | None:
    """What identifies this piece of work across Slack's retries, or None for no claim.

    A channel message that mentions Teammate comes twice, as a ``message`` and as an
    ``app_mention`` event: only the mention is claimed (and answered), so a crowd asking at
    once costs one database write each, not two."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype"):
            return None
        if _mention_as_message(event, bot_user_id):
            return None
        return f"event:{body.get('event_id')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        return f"action:{body['trigger_id']}"
    if body.get("type") == "view_submission" and body.get("trigger_id"):
        return f"view:{body['trigger_id']}"
    return None


def claim_middleware(claims: ClaimStore) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def claim_once(
        body: dict, context: dict, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        key = claim_key(body, context.get("bot_user_id"))
        if key is not None:
            task = claims.claim_soon(key)
            task.add_done_callback(_retrieve)
            context["claim"] = task
        return await next()

    return claim_once


def _mention_as_message(event: dict, bot_user_id: str | None) -> bool:
    return (
        bool(bot_user_id)
        and event.get("type") == "message"
        and event.get("channel_type") != "im"
        and f"<@{bot_user_id}>" in (event.get("text") or "")
    )


def _retrieve(task: asyncio.Future[Claim]) -> None:
    """A claim nobody awaited (no handler matched) must not warn about a lost exception."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("could not claim a request: %s", task.exception())
