"""Paces the Slack calls of every answer in the process within Slack's rate tiers.

Slack counts calls per workspace and method (chat.postMessage: per channel), over a minute.
Each (workspace, method) has one lane shared by all answers in flight: a token bucket whose
burst plus a minute's refill is 90 % of the tier, so no sliding minute holds more, with
callers served first come, first served. Starts and stops may burst (many answers beginning
at once should all show their first words); appends are kept steady. An answer waits for
its turn *before* it decides what to send, so when many answers stream at once each sends
fewer, larger appends carrying its latest text. Other calls (reading a thread) meet a lane
only after a 429 (bot.slack.client), which then queues their retries.

A 429 closes the lane for its Retry-After (for every answer, not just the one refused) and
halves the lane's rate (once per closing: the refusals of one burst count once); each
success wins back a tenth of the tier. That feedback is also how replicas sharing a
workspace converge: each paces to the tier on its own, the workspace's 429s tell every
replica to slow down, and their rates settle at shares that fit (additive increase,
multiplicative decrease). No budget is shared between processes.

slack-sdk's AsyncRateLimitErrorRetryHandler sleeps per call and gives up after a count; these
lanes wait as long as Slack asks, as often as it asks, and let the caller resend what is
current rather than a stale chunk, which is why this is written here.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

HEADROOM = 0.9
"""Share of a tier the process allows itself: Slack's window and ours never align exactly."""
RECOVERY = 0.1
"""Share of the tier's rate won back by each success after a 429."""
SLOWEST = 1 / 16
"""A lane never slows below this share of its tier."""


@dataclass(frozen=True)
class Tier:
    per_minute: int
    burst: int
    per_channel: bool = False


TIERS: dict[str, Tier] = {
    "chat.startStream": Tier(100, 45),  # first words of many answers at once: a burst
    "chat.appendStream": Tier(100, 9),  # steady: updates coalesce while they wait
    "chat.stopStream": Tier(100, 45),
    "chat.update": Tier(50, 4),
    "chat.delete": Tier(50, 4),
    "chat.postMessage": Tier(60, 2, per_channel=True),
}
DEFAULT_TIER = Tier(50, 4)


class Lane:
    """One (workspace, method[, channel]) budget: a token bucket with a FIFO of waiters."""

    def __init__(
        self,
        tier: Tier,
        scale: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        window = 60.0 * scale
        budget = tier.per_minute * HEADROOM
        self.capacity = float(max(1, min(tier.burst, int(budget) - 1)))
        self.full_rate = (budget - self.capacity) / window
        self.rate = self.full_rate
        self.tokens = self.capacity
        self.blocked_until = 0.0
        self.ratelimited = 0
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = asyncio.Lock()  # FIFO: callers get turns in the order they asked

    async def turn(self) -> None:
        """Wait until a call may go out now, and count it."""
        async with self._lock:
            while True:
                now = self._clock()
                self._refill(now)
                wait = self.blocked_until - now
                if wait <= 0:
                    if self.tokens >= 1.0 - 1e-9:
                        self.tokens = max(0.0, self.tokens - 1.0)
                        return
                    wait = (1.0 - self.tokens) / self.rate
                await self._sleep(max(wait, 0.001))

    def give_back(self) -> None:
        """A turn taken but not used."""
        self.tokens = min(self.capacity, self.tokens + 1.0)

    def succeeded(self) -> None:
        if self.rate < self.full_rate:
            self.rate = min(self.full_rate, self.rate + self.full_rate * RECOVERY)

    def refused(self, retry_after: float, *, slow_down: bool = True) -> None:
        """Slack answered 429: nobody calls this method until Retry-After has passed.
        ``slow_down=False`` for calls this lane does not pace (their own pace caused it)."""
        now = self._clock()
        self._refill(now)
        self.ratelimited += 1
        if slow_down and now >= self.blocked_until:  # one burst of refusals slows it once
            self.rate = max(self.full_rate * SLOWEST, self.rate / 2)
        self.blocked_until = max(self.blocked_until, now + retry_after)
        self.tokens = 0.0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now


class SlackLimiter:
    """Every lane of the process. ``scale`` shrinks Slack's minute (a test Slack may)."""

    def __init__(
        self,
        *,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.scale = scale
        self._clock = clock
        self._sleep = sleep
        self._lanes: dict[tuple[str, str, str], Lane] = {}

    def lane(self, team_id: str, method: str, channel: str = "") -> Lane:
        tier = TIERS.get(method, DEFAULT_TIER)
        key = (team_id, method, channel if tier.per_channel else "")
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane(tier, self.scale, self._clock, self._sleep)
        return lane

    @property
    def ratelimited(self) -> int:
        """429s seen by this process's drawing calls."""
        return sum(lane.ratelimited for lane in self._lanes.values())


_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SlackLimiter] = (
    weakref.WeakKeyDictionary()
)


def shared_limiter() -> SlackLimiter:
    """The limiter every answer on the running event loop shares (one per process)."""
    loop = asyncio.get_running_loop()
    limiter = _shared.get(loop)
    if limiter is None:
        limiter = _shared[loop] = SlackLimiter()
    return limiter


def install(limiter: SlackLimiter) -> SlackLimiter:
    """Make ``limiter`` the shared one on the running loop (e.g. with a test Slack's scale)."""
    _shared[asyncio.get_running_loop()] = limiter
    return limiter
