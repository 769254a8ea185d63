"""Paces the Slack calls of every answer in the process within Slack's rate tiers.

Slack counts calls per workspace and method (chat.postMessage: per channel), over a minute.
Each (workspace, method) has one lane shared by all answers in flight, which allows at most
90 % of the tier in any sliding minute (all of it for new streams, see TIERS; a log of its
last calls, as Slack counts). A lane is keyed by one workspace key, a hash of the bot token
(:func:`workspace_key`), whichever caller uses it (an answer's drawing calls, thread reads,
the 429 retries of bot.slack.client), so a 429 on one call blocks the lane the next calls of
that method wait in. A call taken with :meth:`Lane.call` (or :meth:`Lane.take`) counts from
its turn until Slack answered it, so calls still on their way (queued in the connection pool,
or slow to answer) never let the window on this side run ahead of Slack's.

Waiters are served in order of arrival, except that a turn asked with ``first=True`` (the
call that brings an answer's first words) goes ahead of waiting updates and, like a start,
is held only to the window, not spread by the bucket, with a tenth of a steady lane's window
kept for it: a reader waits for the first words of an answer, not for the tenth update of
another. Starts and stops may use the lane's budget at once (many answers beginning together
should all show their first words); appends and updates are also spread by a token bucket,
so that a crowd of answers gets steady, coalesced updates instead of a burst and then a
minute's silence. An answer waits for its turn *before* it decides what to send, so when
many answers stream at once each sends fewer, larger appends carrying its latest text.

A 429 closes the lane for its Retry-After (for every answer, not just the one refused) and
halves the lane's rate (once per closing: the refusals of one burst count once); each
success wins back a tenth of the tier. That feedback is also how replicas sharing a
workspace converge: each paces to the tier on its own, the workspace's 429s tell every
replica to slow down, and their rates settle at shares that fit (additive increase,
multiplicative decrease). No budget is shared between processes.

slack-sdk's AsyncRateLimitErrorRetryHandler sleeps per call and gives up after a count; these
lanes wait as long as Slack asks, as often as it asks, serve first words first, and let the
caller resend what is current rather than a stale chunk, which is why this is written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import math
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache

HEADROOM = 0.9
"""Share of a tier the process allows itself: Slack's window and ours never align exactly."""
RECOVERY = 0.1
"""Share of the tier's rate won back by each success after a 429."""
SLOWEST = 1 / 16
"""A lane never slows below this share of its tier."""
FIRST_WORDS_SHARE = 0.1
"""Share of a steady lane's window (appends, updates) that only first words may use, so they
never queue behind a window that steady updates keep full."""


@dataclass(frozen=True)
class Tier:
    """``burst``: calls that may go at once when a lane is steady; None: the whole budget.
    ``share``: the part of the tier this process allows itself in a sliding minute."""

    per_minute: int
    burst: int | None = None
    per_channel: bool = False
    share: float = HEADROOM

    @property
    def budget(self) -> int:
        return max(1, int(self.per_minute * self.share))


TIERS: dict[str, Tier] = {
    # The first words of many answers at once: no smoothing, and the whole tier. Its calls
    # count here from their turn until Slack answered them, so this window cannot run ahead of
    # Slack's; a tenth held back would make every 91st answer of a crowd wait a whole minute.
    "chat.startStream": Tier(100, share=1.0),
    "chat.appendStream": Tier(100, burst=9),  # steady: updates coalesce while they wait
    "chat.stopStream": Tier(100),
    "chat.update": Tier(50, burst=4),
    "chat.delete": Tier(50),
    "chat.postMessage": Tier(60, burst=2, per_channel=True),
}
DEFAULT_TIER = Tier(50)


@dataclass(order=True)
class _Waiter:
    rank: int
    order: int
    woken: asyncio.Future[None] = field(compare=False)
    gone: bool = field(default=False, compare=False)


class Lane:
    """One (workspace, method[, channel]) budget, as Slack counts it: at most ``allowed``
    calls in any sliding window (a log of the last calls, plus the calls still in flight),
    and for steady lanes a token bucket on top that spreads them out. Waiters are served in
    order of arrival, first words ahead of the rest; only the one at the head waits for the
    budget, the others wait to become the head."""

    def __init__(
        self,
        tier: Tier,
        scale: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.window = 60.0 * scale
        budget = tier.budget
        self.budget = budget
        self.allowed = float(budget)
        burst = budget if tier.burst is None else max(1, min(tier.burst, budget - 1))
        self.capacity = float(burst)
        self.kept_for_first = 0.0 if tier.burst is None else FIRST_WORDS_SHARE
        self.full_rate = max(budget - burst, burst) / self.window
        self.rate = self.full_rate
        self.tokens = self.capacity
        self._log: deque[float] = deque()
        self.in_flight = 0
        self.blocked_until = 0.0
        self.ratelimited = 0
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._waiting: list[_Waiter] = []  # a heap: first words, then order of arrival
        self._order = itertools.count()
        self._released = asyncio.Event()  # a call in flight was answered or given back

    async def turn(self, *, first: bool = False) -> None:
        """Wait until a call may go out now, and count it from now."""
        await self._acquire(first, hold=False)

    async def take(self, *, first: bool = False) -> None:
        """Wait for a turn that counts until :meth:`done` (Slack answered) or
        :meth:`give_back` (not used)."""
        await self._acquire(first, hold=True)

    @contextlib.asynccontextmanager
    async def call(self, *, first: bool = False) -> AsyncIterator[None]:
        """The body makes one call, counted from its turn until it returns."""
        await self.take(first=first)
        try:
            yield
        finally:
            self.done()

    def done(self, *, counted: bool = True) -> None:
        """Slack answered a call taken with :meth:`take`; ``counted=False`` when it refused
        it (Slack counts only the calls it let through)."""
        self.in_flight = max(0, self.in_flight - 1)
        if counted:
            self._log.append(self._clock())
        self._released.set()

    def give_back(self) -> None:
        """A turn taken with :meth:`take` but not used."""
        self.in_flight = max(0, self.in_flight - 1)
        self.tokens = min(self.capacity, self.tokens + 1.0)
        self._released.set()

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

    async def _acquire(self, first: bool, hold: bool) -> None:
        waiter = _Waiter(0 if first else 1, next(self._order), _future())
        heapq.heappush(self._waiting, waiter)
        try:
            while True:
                if self._head() is not waiter:
                    await waiter.woken
                    waiter.woken = _future()
                    continue
                wait = self._wait(self._clock(), first)
                if wait is None:
                    heapq.heappop(self._waiting)
                    self._grant(hold, first)
                    break
                if wait == math.inf:  # calls in flight hold the budget: wait for one
                    self._released.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._released.wait(), self.window)
                else:
                    await self._sleep(max(wait, 0.001))
        except BaseException:
            waiter.gone = True
            raise
        finally:
            self._wake_head()

    def _head(self) -> _Waiter | None:
        waiting = self._waiting
        while waiting and waiting[0].gone:
            heapq.heappop(waiting)
        return waiting[0] if waiting else None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None and not head.woken.done():
            head.woken.set_result(None)

    def _wait(self, now: float, first: bool) -> float | None:
        """Seconds until a call may go (inf: until a call in flight is answered), or None.
        First words are held to the window only, not spread by the bucket (as starts are)."""
        self._refill(now)
        if self.blocked_until > now:
            return self.blocked_until - now
        log = self._log
        while log and log[0] <= now - self.window:
            log.popleft()
        used = len(log) + self.in_flight
        allowed = int(self.allowed if first else self.allowed * (1 - self.kept_for_first))
        if used >= allowed:
            expire = used - allowed + 1
            return log[expire - 1] + self.window - now if expire <= len(log) else math.inf
        if not first and self.tokens < 1.0 - 1e-9:
            return (1.0 - self.tokens) / self.rate
        return None

    def _grant(self, hold: bool, first: bool) -> None:
        if not first:
            self.tokens = max(0.0, self.tokens - 1.0)
        if hold:
            self.in_flight += 1
        else:
            self._log.append(self._clock())

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


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

    def lane(self, workspace: str, method: str, channel: str = "") -> Lane:
        """The lane of ``method`` in ``workspace`` (a :func:`workspace_key`)."""
        tier = TIERS.get(method, DEFAULT_TIER)
        key = (workspace, method, channel if tier.per_channel else "")
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane(tier, self.scale, self._clock, self._sleep)
        return lane

    @property
    def ratelimited(self) -> int:
        """429s seen by this process's drawing calls."""
        return sum(lane.ratelimited for lane in self._lanes.values())


@lru_cache(maxsize=64)
def workspace_key(token: str | None) -> str:
    """What every lane of a workspace is keyed by: its bot token, hashed (the token itself is
    never part of a key), derived once per token. A token is one installation, one workspace,
    whichever team a message or its sender comes from in a shared channel."""
    return "token:" + hashlib.sha256((token or "").encode()).hexdigest()[:16]


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
