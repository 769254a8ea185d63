"""What Teammate's messages carry so that a run resumed after a crash finds them again.

A message Slack created while the process died before it stored the message's ts is known to
nobody but Slack. Each message a run posts therefore carries Slack message metadata naming what
posted it (the event types below, their payloads the task, the claim of the run, the call); the
run taken up again looks for its own marks in the channel or the thread (one
``conversations.history`` or ``conversations.replies`` read per take-up, never per token) and
adopts or deletes what it finds, and leaves alone what carries another run's mark. Slack returns
metadata only when asked (``include_all_metadata``).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

ANSWER = "teammate_answer"
"""A message of an answer, once complete (a message being streamed has no metadata until it
is stopped); payload ``claim``, the key of the run that posted it."""
QUESTION = "teammate_question"
"""The message that asks a ``/ask`` question for its asker; payload ``user``, ``question`` and
``claim``, the key of the run that posted it (a run cut before it learned the ts finds it)."""
TASK_CARD = "teammate_task_card"
"""A task's card in the channel; payload ``task_id``."""
TASK_REPORT = "teammate_task_report"
"""A task's closing line in its card's thread; payload ``task_id``."""
SCHEDULE_SKIP = "teammate_schedule_skip"
"""The line in a run's thread saying its schedule skipped a slot; payload ``schedule_id``."""
APPROVAL_PROMPT = "teammate_approval_prompt"
"""A prompt for an approval; payload ``approval_id`` and ``claim``, the key of the run that
asked (empty when the run holds no claim)."""
CARD_LOOKBACK = 60.0
"""Seconds before a task was recorded from which its card is looked for (clocks differ)."""


def mark(event_type: str, **payload: str) -> dict[str, Any]:
    """The ``metadata`` argument of a post."""
    return {"event_type": event_type, "event_payload": payload}


def carried(message: dict) -> tuple[str | None, dict[str, Any]]:
    """The event type and payload ``message`` carries (None when it carries no metadata)."""
    metadata = message.get("metadata") or {}
    return metadata.get("event_type"), metadata.get("event_payload") or {}


def names(message: dict, event_type: str, **payload: str) -> bool:
    """Whether ``message`` carries ``event_type`` with (at least) ``payload``."""
    kind, carried_payload = carried(message)
    return kind == event_type and all(carried_payload.get(k) == v for k, v in payload.items())


def claim_of(message: dict) -> str | None:
    """The claim key a message's mark names, or None when its mark names no claim."""
    return carried(message)[1].get("claim") or None


async def in_channel(
    client: AsyncWebClient, channel: str, since: float, event_type: str, **payload: str
) -> dict | None:
    """The newest top-level message in ``channel`` posted after ``since`` (seconds) that
    carries ``event_type`` with ``payload``, or None."""
    cursor = None
    while True:
        page = await client.conversations_history(
            channel=channel,
            oldest=f"{since:.6f}",
            include_all_metadata=True,
            limit=200,
            cursor=cursor,
        )
        for message in page.get("messages") or []:
            if names(message, event_type, **payload):
                return message
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


async def in_thread(
    client: AsyncWebClient, channel: str, thread_ts: str, event_type: str, **payload: str
) -> list[dict]:
    """The messages of the thread that carry ``event_type`` with ``payload``, oldest first."""
    found, cursor = [], None
    while True:
        page = await client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
        )
        found += [m for m in page.get("messages") or [] if names(m, event_type, **payload)]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return found


async def task_card(
    client: AsyncWebClient, channel: str, task_id: str, recorded_at: float
) -> dict | None:
    """The card of the task ``task_id`` (recorded at ``recorded_at``) found in ``channel`` by
    its mark, or None: Slack posted it though the process that asked never stored its ts."""
    since = recorded_at - CARD_LOOKBACK
    return await in_channel(client, channel, since, TASK_CARD, task_id=task_id)
