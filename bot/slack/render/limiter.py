"""Paces the Slack calls of every answer in the process within Slack's rate tiers.

Slack counts calls per workspace and method (chat.postMessage: per channel), over a minute.
Each (workspace, method) has one lane shared by all answers in flight, which allows at most
90 % of the tier in any sliding minute (a log of its last calls, as Slack counts), callers
served first come, first served. Starts and stops may use that budget at once (many answers
beginning together should all show their first words); appends and updates are also spread
by a token bucket, so that a crowd of answers gets steady, coalesced updates instead of a
burst and then a minute's silence. An answer waits for its turn *before* it decides what to
send, so when many answers stream at once each sends fewer, larger appends carrying its
latest text. Other calls (reading a thread) meet a lane only after a 429 (bot.slack.client),
which then queues their retries.

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
from collections import deque
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
    """``burst``: calls that may go at once when a lane is steady; None: the whole budget."""

    per_minute: int
    burst: int | None = None
    per_channel: bool = False


TIERS: dict[str, Tier] = {
    "chat.startStream": Tier(100),  # the first words of many answers at once: no smoothing
    "chat.appendStream": Tier(100, burst=9),  # steady: updates coalesce while they wait
    "chat.stopStream": Tier(100),
    "chat.update": Tier(50, burst=4),
    "chat.delete": Tier(50),
    "chat.postMessage": Tier(60, burst=2, per_channel=True),
}
DEFAULT_TIER = Tier(50)


class Lane:
    """One (workspace, method[, channel]) budget, as Slack counts it: at most ``allowed``
    calls in any sliding window (a log of the last calls), and for steady lanes a token
    bucket on top that spreads them out. Waiters are served first come, first served."""

    def __init__(
        self,
        tier: Tier,
        scale: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.window = 60.0 * scale
        budget = max(1, int(tier.per_minute * HEADROOM))
        self.budget = budget
        self.allowed = float(budget)
        burst = budget if tier.burst is None else max(1, min(tier.burst, budget - 1))
        self.capacity = float(burst)
        self.full_rate = max(budget - burst, burst) / self.window
        self.rate = self.full_rate
        self.tokens = self.capacity
        self._log: deque[float] = deque()
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
                    log = self._log
                    while log and log[0] <= now - self.window:
                        log.popleft()
                    if len(log) >= int(self.allowed):
                        wait = log[-int(self.allowed)] + self.window - now
                    elif self.tokens < 1.0 - 1e-9:
                        wait = (1.0 - self.tokens) / self.rate
                    else:
                        self.tokens = max(0.0, self.tokens - 1.0)
                        log.append(now)
                        return
                await self._sleep(max(wait, 0.001))

    def give_back(self) -> None:
        """A turn taken but not used."""
        self.tokens = min(self.capacity, self.tokens + 1.0)
        if self._log:
            self._log.pop()

    def succeeded(self) -> None:
        if self.rate < self.full_rate:
            self.rate = min(self.full_rate, self.rate + self.full_rate * RECOVERY)
        if self.allowed < self.budget:
            self.allowed = min(float(self.budget), self.allowed + self.budget * RECOVERY)

    def refused(self, retry_after: float, *, slow_down: bool = True) -> None:
        """Slack answered 429: nobody calls this method until Retry-After has passed.
        ``slow_down=False`` for calls this lane does not pace (their own pace caused it)."""
        now = self._clock()
        self._refill(now)
        self.ratelimited += 1
        if slow_down and now >= self.blocked_until:  # one burst of refusals slows it once
            self.rate = max(self.full_rate * SLOWEST, self.rate / 2)
            self.allowed = max(1.0, self.budget * SLOWEST, self.allowed / 2)
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
