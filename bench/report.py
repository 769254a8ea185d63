"""Benchmark results as small tables: printed by each benchmark, collected into a Markdown page.

A result is a list of rows (what was measured, the figure, the target, met or not) plus a
one-line note of method, so the console output and docs/benchmarks.md say the same thing.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field


@dataclass
class Row:
    what: str
    measured: str
    target: str = ""
    met: bool | None = None  # None: the row is information, not a target


@dataclass
class Result:
    title: str
    method: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def met(self) -> bool:
        return all(row.met is not False for row in self.rows)


def verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**not met**")


def machine() -> str:
    """One line about where the figures come from."""
    return (
        f"{os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; all traffic on the loopback interface (127.0.0.1)"
    )


class OtherWork:
    """CPU time the rest of the machine used while the benchmarks ran (Linux only).

    The figures are only as good as the cores they had: this says how much of the machine
    other processes took, from /proc/stat's busy time less this process and its children's.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                fields = [int(x) for x in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / tick
        ours = sum(os.times()[:4])
        return busy, ours, time.monotonic()

    def summary(self) -> str:
        end = self._sample()
        if self.start is None or end is None:
            return "not measured"
        others = max(0.0, (end[0] - self.start[0]) - (end[1] - self.start[1]))
        wall = end[2] - self.start[2]
        return (
            f"other processes used {others:.0f} CPU-seconds during the {wall:.0f} s run "
            f"(the machine had {wall * (os.cpu_count() or 1):.0f})"
        )


def to_markdown(result: Result, heading: str = "##") -> str:
    lines = [f"{heading} {result.title}", "", f"Method: {result.method}", ""]
    lines += ["| what | measured | target | |", "|---|---|---|---|"]
    for row in result.rows:
        lines.append(f"| {row.what} | {row.measured} | {row.target} | {verdict(row.met)} |")
    if result.notes:
        lines.append("")
        lines += [f"- {note}" for note in result.notes]
    lines += ["", f"_Run time: {result.seconds:.0f} s._", ""]
    return "\n".join(lines)


def to_text(result: Result) -> str:
    width = max((len(row.what) for row in result.rows), default=10)
    lines = [result.title, "=" * len(result.title)]
    for row in result.rows:
        mark = {None: "", True: "  [met]", False: "  [NOT MET]"}[row.met]
        target = f"  (target {row.target})" if row.target else ""
        lines.append(f"{row.what.ljust(width)}  {row.measured}{target}{mark}")
    lines += [f"- {note}" for note in result.notes]
    lines.append(f"({result.seconds:.0f} s)")
    return "\n".join(lines)
