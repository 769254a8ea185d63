"""Benchmark results as small tables: printed by each benchmark, collected into a Markdown page.

A result is a list of rows (what was measured, the figure, the target, met or not) plus a
one-line note of method, so the console output and docs/benchmarks.md say the same thing.
"""

from __future__ import annotations

import os
import platform
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
