"""Where a process's CPU goes, by thread: the event loop, DBOS's pollers, the thread pools.

A process's CPU-seconds say what it costs; per thread (``/proc/self/task/<tid>/stat``, named
by :mod:`threading`) they say who spends them, so a benchmark can tell the answers' own work
on the event loop from what DBOS's background threads spend polling meanwhile. Threads are
grouped by their names (Python's defaults name a thread after its target); CPU of threads that
ended during the span (a pool's worker retired, say) shows only in the process's total and is
reported as its own group, with what per-thread clock ticks round away.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass

ENDED = "threads that ended meanwhile (and rounding)"
GROUPS = (
    ("MainThread", "event loop"),
    ("dbos-executor", "DBOS's thread pool (its database calls; the loop's to_thread)"),
    ("queue-worker-", "DBOS's queue pollers"),
    ("queue_thread", "DBOS's queue pollers"),
    ("run_notification_listener", "DBOS's notifications"),
    ("run_notifier", "DBOS's notifications"),
    ("background-jobs", "DBOS's background jobs"),
    ("dynamic_scheduler_loop", "DBOS's schedules"),
    ("asyncio", "the loop's thread pool"),
)
OTHERS = "other threads"
_TICK = os.sysconf("SC_CLK_TCK")


def stat_seconds(path: str) -> float:
    """User plus system CPU-seconds in a /proc stat file (a process's or a thread's)."""
    with open(path, encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _stat_cpu(path: str) -> float:
    """:func:`stat_seconds`, 0 when the thread is gone."""
    try:
        return stat_seconds(path)
    except OSError:
        return 0.0


def group_of(name: str) -> str:
    for part, group in GROUPS:
        if part in name:
            return group
    return OTHERS


def _threads() -> dict[int, str]:
    """Each live thread's kernel id and Python name (a thread Python did not start, one of a
    C library's, is named by the kernel)."""
    named = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    tids = (int(tid) for tid in os.listdir("/proc/self/task"))
    return {tid: named.get(tid, f"native {tid}") for tid in tids}


@dataclass
class ThreadCpu:
    """CPU-seconds per thread group of this process since :meth:`start`."""

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        self._process = _stat_cpu("/proc/self/stat")
        self._threads = {tid: _stat_cpu(f"/proc/self/task/{tid}/stat") for tid in _threads()}

    def split(self) -> dict[str, float]:
        """Each group's CPU-seconds since the start, the ended threads' included, largest
        first; their sum is the process's CPU-seconds over the span."""
        spent: Counter[str] = Counter()
        for tid, name in _threads().items():
            used = _stat_cpu(f"/proc/self/task/{tid}/stat") - self._threads.get(tid, 0.0)
            spent[group_of(name)] += used
        total = _stat_cpu("/proc/self/stat") - self._process
        spent[ENDED] += max(0.0, total - sum(spent.values()))
        return {group: seconds for group, seconds in spent.most_common() if seconds > 0}


def split_text(split: dict[str, float], per: int = 1) -> str:
    """``event loop 2.10 s · DBOS's queue pollers 0.40 s · ...``, divided by ``per``."""
    return " · ".join(f"{group} {seconds / per:.3f} s" for group, seconds in split.items())
