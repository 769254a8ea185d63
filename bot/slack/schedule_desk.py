"""Recurring tasks as people ask for them: ``/task every <rule> <goal>``, ``/task schedules``,
``/task cancel ID`` for a schedule's id.

The rule is read by :mod:`bot.core.tasks.recurrence`; the rest is a task as ``/task`` takes it
(options, then the goal), checked now so a schedule never starts a run that would be refused.
The time zone is ``TEAMMATE_TIMEZONE`` when set (Slack has no workspace time zone), else the
creator's own in Slack, else UTC; it is kept on the schedule and shown with every time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.store.schedules import ScheduleStore
from bot.core.tasks.recurrence import parse_rule, valid_zone
from bot.slack.admins import Admins
from bot.slack.task_desk import NOT_IN_CHANNEL, TaskDesk

log = logging.getLogger("teammate.slack.schedules")

FALLBACK_ZONE = "UTC"


def when(instant: float, tz: str) -> str:
    """``Mon 7 Dec 09:00 Europe/Berlin``."""
    shown = datetime.fromtimestamp(instant, ZoneInfo(tz))
    return f"{shown:%a} {shown.day} {shown:%b %H:%M} {tz}"


def _after_every(text: str) -> str:
    """The text after the subcommand ``every``."""
    parts = text.strip().split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def _can_post(client: AsyncWebClient, channel: str) -> bool:
    """Whether Teammate is in ``channel`` (every run posts its card there); a DM, or a
    channel Slack would not describe for a passing reason, is given the benefit of the doubt."""
    try:
        found = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        return exc.response.get("error") != "channel_not_found"
    return bool(found.get("is_im")) or found.get("is_member", True) is not False


@dataclass
class ScheduleDesk:
    store: ScheduleStore
    tasks: TaskDesk
    admins: Admins
    timezone: str | None = None
    """TEAMMATE_TIMEZONE: every schedule's time zone, when set."""

    def refusal(self, text: str) -> str | None:
        """The line refusing ``/task every ...`` at once (a bad rule, bad options), or None."""
        parsed = parse_rule(_after_every(text))
        if isinstance(parsed, str):
            return parsed
        return self.tasks.refusal(parsed[1])

    async def create(
        self, client: AsyncWebClient, *, team_id: str, channel: str, user: str, text: str
    ) -> str:
        """Make the schedule; the line telling its creator its id, rule and next run."""
        parsed = parse_rule(_after_every(text))
        if isinstance(parsed, str):
            return parsed
        recurrence, task_text = parsed
        refused = self.tasks.refusal(task_text)
        if refused:
            return refused
        if not await _can_post(client, channel):
            return NOT_IN_CHANNEL
        tz = await self._zone(client, user)
        schedule = await self.store.create(team_id, channel, user, task_text, recurrence, tz)
        log.info("schedule %s made in %s: %s", schedule.short_id, channel, schedule.rule)
        return (
            f"Schedule `{schedule.short_id}`: {schedule.describe()}, {schedule.text}\n"
            f"Next run {when(schedule.next_at, tz)}; each run posts its card in this channel "
            f"and its report in the card's thread. `/task cancel {schedule.short_id}` stops it."
        )

    async def listed(self, channel: str) -> str:
        schedules = await self.store.listed(channel)
        if not schedules:
            return "No schedules in this channel. Make one with `/task every 1d <goal>`."
        lines = ["*Schedules in this channel*"]
        lines += [
            f"`{s.short_id}` {s.describe()} · next {when(s.next_at, s.tz)} · by <@{s.creator}>"
            f" · {s.text}"
            for s in schedules
        ]
        return "\n".join(lines)

    async def cancel(self, client: AsyncWebClient, short_id: str, user: str) -> str | None:
        """Cancel the schedule ``short_id`` (its creator or an admin); None when no schedule
        has that id (it may be a task's)."""
        schedule = await self.store.get(short_id)
        if schedule is None:
            return None
        if user != schedule.creator and not await self.admins.is_admin(client, user):
            return f"Only <@{schedule.creator}> or an admin can cancel schedule `{short_id}`."
        if not await self.store.cancel(schedule, user):
            return f"Schedule `{schedule.short_id}` was cancelled already."
        return f"Schedule `{schedule.short_id}` is cancelled: it runs no more."

    async def _zone(self, client: AsyncWebClient, user: str) -> str:
        if self.timezone:
            return self.timezone
        try:
            found = (await client.users_info(user=user)).get("user") or {}
        except SlackApiError:
            log.warning("could not read the time zone of %s", user, exc_info=True)
            return FALLBACK_ZONE
        tz = found.get("tz") or ""
        return tz if valid_zone(tz) else FALLBACK_ZONE
