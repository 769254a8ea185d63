"""The log of every Web API call the bot made, so tests and benchmarks can count and inspect.

Tokens never enter the log. The log is bounded so a long benchmark cannot exhaust memory.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

_LIMIT = 200_000
_SECRET_KEYS = {"token", "client_secret"}


class CallLog:
    """Records {method, args, ok, error, status, t, time, notes} for each call."""

    def __init__(self, on_record: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=_LIMIT)
        self._on_record = on_record
        self.ratelimited = 0

    def record(
        self,
        method: str,
        args: dict[str, Any],
        *,
        ok: bool,
        error: str | None,
        status: int,
        notes: list[str] | None = None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": method,
            "args": {k: v for k, v in args.items() if k not in _SECRET_KEYS},
            "ok": ok,
            "error": error,
            "status": status,
            "t": time.monotonic(),
            "time": time.time(),
        }
        if notes:
            entry["notes"] = list(notes)
        if status == 429:
            self.ratelimited += 1
        self._records.append(entry)
        if self._on_record is not None:
            self._on_record(entry)
        return entry

    def list(self, method: str | None = None) -> list[dict[str, Any]]:
        if method is None:
            return list(self._records)
        return [r for r in self._records if r["method"] == method]

    def clear(self) -> None:
        self._records.clear()
        self.ratelimited = 0
