"""When a recurring task runs: ``every 15m``, ``every 2h``, ``every 1d``, ``every monday 09:00``,
``every day 18:30``, read from text and turned into slots (UTC epoch seconds).

Minutes and hours are spans of elapsed time, so a DST change neither skips nor doubles a
run. Days and weekdays keep the wall-clock time of the schedule's time zone: ``every 1d``
created at 09:00 runs at 09:00 on both sides of a DST change (23 or 25 hours apart). A wall
time a spring-forward gap skips runs just after the gap (02:30 becomes 03:30); one that a
fall-back repeats runs at its first occurrence only.

Written by hand: cron libraries read cron syntax, not this contract's, and the arithmetic
is a few lines over :mod:`zoneinfo`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = {"m": ("minute", 60), "h": ("hour", 3600), "d": ("day", 86400)}
MOST = {"m": 60 * 24 * 366, "h": 24 * 366, "d": 366}
"""The longest span a rule may have, per unit (a year and a day)."""

USAGE = (
    "Write the schedule as `every <N>m|h|d <goal>` (`every 15m`, `every 2h`, `every 1d`) or "
    "`every <weekday or day> HH:MM <goal>` (`every monday 09:00`, `every day 18:30`)."
)
TOO_OFTEN = "A schedule runs at most once a minute: use `every 1m` or longer."
_SPAN = re.compile(r"^(\d+)([a-z]+)$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Either a span (``count`` of ``unit``: m, h or d) or a wall-clock time (``hour``,
    ``minute``) on a ``weekday`` (0 is Monday) or, with ``weekday`` None, every day."""

    unit: str | None = None
    count: int = 0
    weekday: int | None = None
    hour: int = 0
    minute: int = 0

    @property
    def rule(self) -> str:
        """The rule as stored and as people write it (``15m``, ``monday 09:00``)."""
        if self.unit is not None:
            return f"{self.count}{self.unit}"
        day = "day" if self.weekday is None else WEEKDAYS[self.weekday]
        return f"{day} {self.hour:02d}:{self.minute:02d}"

    def describe(self, tz: str, anchor: float) -> str:
        """``every 15 minutes``, ``every 2 days at 09:00 Europe/Berlin``, ``every Monday 09:00
        Europe/Berlin``: what a person reads back."""
        if self.unit is not None:
            name = UNITS[self.unit][0]
            span = name if self.count == 1 else f"{self.count} {name}s"
            if self.unit != "d":
                return f"every {span}"
            at = datetime.fromtimestamp(anchor, ZoneInfo(tz)).strftime("%H:%M")
            return f"every {span} at {at} {tz}"
        day = "day" if self.weekday is None else WEEKDAYS[self.weekday].capitalize()
        return f"every {day} {self.hour:02d}:{self.minute:02d} {tz}"

    def next_after(self, after: float, anchor: float, tz: str) -> float:
        """The first slot strictly after ``after``; a span counts from ``anchor`` (the
        schedule's creation, to the minute)."""
        zone = ZoneInfo(tz)
        start = math.floor(anchor / 60) * 60
        if self.unit in ("m", "h"):
            step = self.count * UNITS[self.unit][1]
            return start + max(1, math.floor((after - start) / step) + 1) * step
        if self.unit == "d":
            local = datetime.fromtimestamp(start, zone)
            # Slot k is k*count days on, give or take an hour of DST: none before this k is
            # after ``after``.
            k = max(1, math.floor((after - start) / (self.count * 86400)))
            while True:
                slot = _at(local.date() + timedelta(days=k * self.count), local, zone)
                if slot > after:
                    return slot
                k += 1
        today = datetime.fromtimestamp(after, zone).date()
        for offset in range(9):
            day = today + timedelta(days=offset)
            if self.weekday is not None and day.weekday() != self.weekday:
                continue
            slot = _at(day, datetime(2000, 1, 1, self.hour, self.minute), zone)
            if slot > after:
                return slot
        raise AssertionError("a weekly slot is always within nine days")


def _at(day: date, clock: datetime, zone: ZoneInfo) -> float:
    """The instant ``day`` shows ``clock``'s hour and minute in ``zone`` (fold 0: before a
    gap's jump, the first of a repeated hour)."""
    return datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=zone).timestamp()


def parse_rule(text: str) -> tuple[Recurrence, str] | str:
    """The rule at the start of ``text`` (after ``every``) and the text after it; or the line
    saying what is wrong."""
    words = text.split(maxsplit=1)
    if not words:
        return USAGE
    first, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    span = _SPAN.match(first)
    if span is not None:
        count, unit = int(span.group(1)), span.group(2)
        if unit in ("s", "sec", "secs", "second", "seconds") or (unit in UNITS and count == 0):
            return TOO_OFTEN
        if unit not in UNITS:
            return USAGE
        if count > MOST[unit]:
            return "A schedule runs at least once a year: use a shorter span."
        return Recurrence(unit=unit, count=count), rest
    weekday = _weekday(first)
    if weekday is None and first != "day":
        return USAGE
    clock, _, goal = rest.partition(" ")
    found = _CLOCK.match(clock)
    if found is None:
        return f"After `{first}` write the time as HH:MM (24-hour), for example `09:00`."
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return f"`{clock}` is not a time of day: write HH:MM from 00:00 to 23:59."
    return Recurrence(weekday=weekday, hour=hour, minute=minute), goal.strip()


def rule_of(stored: str) -> Recurrence:
    """A stored rule (:attr:`Recurrence.rule`) read back."""
    parsed = parse_rule(stored + " -")
    if isinstance(parsed, str):
        raise ValueError(f"not a schedule rule: {stored!r}")
    return parsed[0]


def _weekday(word: str) -> int | None:
    for number, name in enumerate(WEEKDAYS):
        if word == name or word == name[:3]:
            return number
    return None


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this system knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
