"""Bolt middleware that claims each event, command and click before any work is done.

Slack re-sends an event it believes failed and several replicas may share one workspace; Bolt
itself dedupes nothing. Work that finds its claim already held gets a plain 200 and nothing
else. The claim rides in the request context to the handler, which holds it while answering.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.response import BoltResponse

from bot.core.store import ClaimStore

log = logging.getLogger("teammate.slack.dedupe")


def claim_key(body: dict) -> str | None:
    """What identifies this piece of work across Slack's retries, or None for no claim."""
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype"):
            return None
        return f"event:{body.get('event_id')}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        return f"action:{body['trigger_id']}"
    return None


def claim_middleware(claims: ClaimStore) -> Callable[..., Awaitable[BoltResponse | None]]:
    async def claim_once(
        body: dict, context: dict, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = claim_key(body)
        if key is not None:
            claim = await claims.claim(key)
            if not claim.acquired:
                log.info("dropped a duplicate of %s", key)
                return BoltResponse(status=200, body="")
            context["claim"] = claim
        return await next()

    return claim_once
