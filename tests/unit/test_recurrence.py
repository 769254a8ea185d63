"""Reading `/task every ...` rules and finding their next slot, across DST changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.tasks.recurrence import TOO_OFTEN, USAGE, Recurrence, parse_rule, rule_of

BERLIN = "Europe/Berlin"


def at(text: str, tz: str = BERLIN) -> float:
    """The instant ``text`` (YYYY-mm-dd HH:MM) shows in ``tz``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz)).timestamp()


def local(instant: float, tz: str = BERLIN) -> str:
    return datetime.fromtimestamp(instant, ZoneInfo(tz)).strftime("%a %Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "rule", "rest"),
    [
        ("15m check the queue", "15m", "check the queue"),
        ("2h --minutes 5 tidy up", "2h", "--minutes 5 tidy up"),
        ("1d summarise", "1d", "summarise"),
        ("monday 09:00 weekly notes", "monday 09:00", "weekly notes"),
        ("Mon 9:00 weekly notes", "monday 09:00", "weekly notes"),
        ("FRIDAY 17:45 wrap up", "friday 17:45", "wrap up"),
        ("sun 00:00 x", "sunday 00:00", "x"),
        ("day 18:30 --tokens 900 daily digest", "day 18:30", "--tokens 900 daily digest"),
    ],
)
def test_rules_are_read_with_the_text_after_them(text, rule, rest) -> None:
    parsed = parse_rule(text)
    assert not isinstance(parsed, str), parsed
    recurrence, after = parsed
    assert (recurrence.rule, after) == (rule, rest)
    assert rule_of(recurrence.rule) == recurrence


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("0m go", TOO_OFTEN),
        ("30s go", TOO_OFTEN),
        ("", USAGE),
        ("fortnight go", USAGE),
        ("3w go", USAGE),
        ("1.5h go", USAGE),
        ("monday go", "After `monday` write the time as HH:MM (24-hour), for example `09:00`."),
        ("day 24:00 go", "`24:00` is not a time of day: write HH:MM from 00:00 to 23:59."),
        ("tue 10:60 go", "`10:60` is not a time of day: write HH:MM from 00:00 to 23:59."),
        ("9999d go", "A schedule runs at least once a year: use a shorter span."),
    ],
)
def test_bad_rules_are_refused_with_one_line(text, said) -> None:
    assert parse_rule(text) == said


def test_minutes_count_from_the_minute_the_schedule_was_made() -> None:
    every = Recurrence(unit="m", count=15)
    anchor = at("2026-12-02 10:07") + 40  # 10:07:40
    assert local(every.next_after(anchor, anchor, BERLIN)) == "Wed 2026-12-02 10:22"
    assert local(every.next_after(at("2026-12-02 10:22"), anchor, BERLIN)) == "Wed 2026-12-02 10:37"
    assert local(every.next_after(at("2026-12-02 13:00"), anchor, BERLIN)) == "Wed 2026-12-02 13:07"


def test_hours_are_elapsed_time_across_a_dst_change() -> None:
    # Berlin moves from 03:00 CEST back to 02:00 CET on 25 October 2026.
    every = Recurrence(unit="h", count=2)
    anchor = at("2026-10-24 23:00")
    slots = [every.next_after(anchor, anchor, BERLIN)]
    for _ in range(2):
        slots.append(every.next_after(slots[-1], anchor, BERLIN))
    assert [local(s) for s in slots] == [
        "Sun 2026-10-25 01:00",
        "Sun 2026-10-25 02:00",  # the second 02:00 (CET): two hours after 01:00 CEST
        "Sun 2026-10-25 04:00",
    ]
    assert [b - a for a, b in zip(slots, slots[1:], strict=False)] == [7200, 7200]


def test_days_keep_the_wall_clock_time_across_dst_changes() -> None:
    every = Recurrence(unit="d", count=1)
    anchor = at("2026-03-27 09:00")  # Berlin springs forward on 29 March
    first = every.next_after(anchor, anchor, BERLIN)
    second = every.next_after(first, anchor, BERLIN)
    third = every.next_after(second, anchor, BERLIN)
    assert [local(s) for s in (first, second, third)] == [
        "Sat 2026-03-28 09:00",
        "Sun 2026-03-29 09:00",
        "Mon 2026-03-30 09:00",
    ]
    assert second - first == 23 * 3600
    # A week later, still at nine.
    assert local(every.next_after(at("2026-04-05 09:30"), anchor, BERLIN)) == "Mon 2026-04-06 09:00"
    three = Recurrence(unit="d", count=3)
    assert local(three.next_after(at("2026-04-05 09:30"), anchor, BERLIN)) == "Wed 2026-04-08 09:00"


def test_weekdays_and_every_day_at_a_time() -> None:
    monday = Recurrence(weekday=0, hour=9, minute=0)
    wednesday_noon = at("2026-12-02 12:00")
    assert local(monday.next_after(wednesday_noon, 0, BERLIN)) == "Mon 2026-12-07 09:00"
    assert local(monday.next_after(at("2026-12-07 08:59"), 0, BERLIN)) == "Mon 2026-12-07 09:00"
    assert local(monday.next_after(at("2026-12-07 09:00"), 0, BERLIN)) == "Mon 2026-12-14 09:00"
    daily = Recurrence(hour=18, minute=30)
    assert local(daily.next_after(wednesday_noon, 0, BERLIN)) == "Wed 2026-12-02 18:30"
    assert local(daily.next_after(at("2026-12-02 18:30"), 0, BERLIN)) == "Thu 2026-12-03 18:30"


def test_a_time_in_the_spring_gap_runs_just_after_it_and_a_repeated_one_once() -> None:
    daily = Recurrence(hour=2, minute=30)
    before_gap = at("2026-03-28 12:00")
    gap_day = daily.next_after(before_gap, 0, BERLIN)
    assert local(gap_day) == "Sun 2026-03-29 03:30"  # 02:30 does not exist that night
    assert local(daily.next_after(gap_day, 0, BERLIN)) == "Mon 2026-03-30 02:30"
    repeated = daily.next_after(at("2026-10-24 12:00"), 0, BERLIN)
    following = daily.next_after(repeated, 0, BERLIN)
    assert local(repeated) == "Sun 2026-10-25 02:30"
    assert local(following) == "Mon 2026-10-26 02:30"  # not the second 02:30 of the 25th
    assert following - repeated == 25 * 3600


def test_the_time_zone_decides_the_instant() -> None:
    monday = Recurrence(weekday=0, hour=9, minute=0)
    after = at("2026-12-02 12:00", "UTC")
    berlin = monday.next_after(after, 0, BERLIN)
    new_york = monday.next_after(after, 0, "America/New_York")
    assert new_york - berlin == 6 * 3600
    assert monday.describe(BERLIN, 0) == "every Monday 09:00 Europe/Berlin"
    assert Recurrence(hour=18, minute=30).describe("UTC", 0) == "every day 18:30 UTC"
    assert Recurrence(unit="m", count=1).describe(BERLIN, 0) == "every minute"
    assert Recurrence(unit="h", count=2).describe(BERLIN, 0) == "every 2 hours"
    anchor = at("2026-12-02 08:15")
    assert Recurrence(unit="d", count=2).describe(BERLIN, anchor) == (
        "every 2 days at 08:15 Europe/Berlin"
    )
