"""Slack's rate tiers, per method per workspace, over a sliding 60-second window.

chat.postMessage is Slack's "special" case: about one message a second per channel with a
short burst allowed, modelled as a token bucket per channel. `scale` shrinks every window
(0.1 → a 6-second window, 10 posts a second per channel) so tests and benchmarks can hit the
limits quickly while keeping Slack's proportions; the Retry-After given is whole seconds, ≥ 1.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
DEFAULT_TIER = 3
POST_MESSAGE = "chat.postMessage"

METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "auth.test": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "chat.startStream": 4,
    "chat.appendStream": 4,
    "chat.stopStream": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "conversations.join": 3,
    "conversations.members": 4,
    "conversations.list": 2,
    "users.info": 4,
    "users.list": 2,
    "team.info": 3,
    "reactions.add": 3,
    "reactions.remove": 3,
    "views.publish": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "assistant.threads.setStatus": 3,
    "assistant.threads.setSuggestedPrompts": 3,
    "assistant.threads.setTitle": 3,
    "agents.sessions.setStatus": 3,
}


class RateLimiter:
    """Decides whether a call is over its tier; remembers only calls it let through."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        scale: float = 1.0,
        post_burst: int = 3,
        overrides: dict[str, int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.scale = scale
        self.post_burst = post_burst
        self.overrides: dict[str, int] = dict(overrides or {})
        self._clock = clock
        self._windows: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    def reset(self) -> None:
        self._windows.clear()
        self._buckets.clear()

    def per_minute(self, method: str) -> int:
        """Calls allowed per (scaled) minute; an override is a number of calls, not a tier."""
        if method in self.overrides:
            return self.overrides[method]
        return TIER_PER_MINUTE[METHOD_TIERS.get(method, DEFAULT_TIER)]

    def check(self, method: str, channel: str | None = None) -> int | None:
        """None when the call may go ahead (and is counted), else Retry-After in seconds."""
        if not self.enabled:
            return None
        if method == POST_MESSAGE and method not in self.overrides:
            return self._take_token(channel or "")
        return self._slide(method)

    def _slide(self, method: str) -> int | None:
        now = self._clock()
        window = 60.0 * self.scale
        calls = self._windows.setdefault(method, deque())
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= self.per_minute(method):
            return _whole_seconds(calls[0] + window - now)
        calls.append(now)
        return None

    def _take_token(self, channel: str) -> int | None:
        now = self._clock()
        interval = 1.0 * self.scale
        tokens, last = self._buckets.get(channel, (float(self.post_burst), now))
        tokens = min(float(self.post_burst), tokens + (now - last) / interval)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return _whole_seconds((1.0 - tokens) * interval)
        self._buckets[channel] = (tokens - 1.0, now)
        return None


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
