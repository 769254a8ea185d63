"""The shared pacing of drawing calls, on a clock the test moves by hand."""

from __future__ import annotations

import asyncio

from slack_sdk.http_retry.request import HttpRequest

from bot.slack.client import _workspace
from bot.slack.render.limiter import HEADROOM, SlackLimiter, workspace_key


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def limiter(clock: ManualClock, scale: float = 1.0) -> SlackLimiter:
    return SlackLimiter(scale=scale, clock=clock, sleep=clock.sleep)


async def turns(lane, count: int, clock: ManualClock) -> list[float]:
    times = []
    for _ in range(count):
        await lane.turn()
        times.append(clock.now)
    return times


def most_in_a_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_no_minute_holds_more_than_the_tiers_share() -> None:
    clock = ManualClock()
    lane = limiter(clock).lane("T1", "chat.appendStream")
    times = await turns(lane, 400, clock)
    assert most_in_a_window(times, 60.0) <= 100 * HEADROOM
    assert times[-1] - times[0] < 400 / (100 * HEADROOM) * 60 * 1.2  # and not much slower


async def test_many_answers_may_all_start_at_once_within_the_minute() -> None:
    clock = ManualClock()
    lane = limiter(clock).lane("T1", "chat.startStream")
    times = await turns(lane, 250, clock)
    assert times[99] == times[0]  # the tier's worth goes at once: the whole of it
    assert times[100] > times[0]
    assert most_in_a_window(times, 60.0) <= 100


async def test_scale_shrinks_the_minute() -> None:
    clock = ManualClock()
    lane = limiter(clock, scale=0.1).lane("T1", "chat.update")
    times = await turns(lane, 200, clock)
    assert most_in_a_window(times, 6.0) <= 50 * HEADROOM


async def test_a_429_closes_the_lane_for_everyone_then_it_recovers() -> None:
    clock = ManualClock()
    shared = limiter(clock)
    lane = shared.lane("T1", "chat.appendStream")
    assert shared.lane("T1", "chat.appendStream") is lane  # every answer, one lane
    full = lane.rate
    lane.refused(30.0)
    refused_at = clock.now
    await lane.turn()
    assert clock.now >= refused_at + 30.0 and lane.rate == full / 2
    for _ in range(20):
        lane.succeeded()
    assert lane.rate == full and shared.ratelimited == 1


async def test_lanes_are_per_workspace_and_method_and_posts_per_channel() -> None:
    shared = limiter(ManualClock())
    assert shared.lane("T1", "chat.update", "C1") is shared.lane("T1", "chat.update", "C2")
    assert shared.lane("T1", "chat.update") is not shared.lane("T2", "chat.update")
    assert shared.lane("T1", "chat.update") is not shared.lane("T1", "chat.appendStream")
    posts = shared.lane("T1", "chat.postMessage", "C1")
    assert posts is not shared.lane("T1", "chat.postMessage", "C2")


async def test_first_words_go_ahead_of_waiting_updates() -> None:
    lane = SlackLimiter(scale=0.01).lane("T1", "chat.appendStream")
    for _ in range(int(lane.capacity)):  # the bucket spent: updates now wait their turn
        await lane.turn()
    order: list[str] = []

    async def update(name: str, first: bool = False) -> None:
        await lane.turn(first=first)
        order.append(name)

    waiting = [asyncio.create_task(update(f"update {n}")) for n in range(5)]
    await asyncio.sleep(0)  # they are in the lane before the first words ask
    await asyncio.gather(update("first words", first=True), *waiting)
    assert order[0] == "first words"
    assert order[1:] == [f"update {n}" for n in range(5)]  # the rest in order of arrival


async def test_a_call_counts_until_slack_answered_it() -> None:
    lane = SlackLimiter(scale=0.01).lane("T1", "chat.startStream")  # a 0.6 s window
    for _ in range(lane.budget):
        await lane.take()  # all on their way, none answered yet
    late = asyncio.create_task(lane.turn())
    await asyncio.sleep(lane.window * 1.5)
    assert not late.done()  # turns older than the window still count while in flight
    lane.done(counted=False)  # one was refused: Slack did not count it
    await asyncio.wait_for(late, 5)


def test_the_429_retries_and_the_answers_share_one_workspace_key() -> None:
    request = HttpRequest(
        method="POST",
        url="https://slack.example/api/conversations.replies",
        headers={"Authorization": "Bearer xoxb-1-2-secret"},
    )
    assert _workspace(request) == workspace_key("xoxb-1-2-secret")
    assert "secret" not in workspace_key("xoxb-1-2-secret")
