"""What a worker costs in CPU at rest and per answer, against one process doing everything.

Ten workers that each burn a little at rest burn a core between them, so the rest figure
matters as much as the per-answer one. Two setups on PostgreSQL, one after the other in the
same run, each on a fresh database, each driven by the same world (sandbox and fake model,
a short answer at once) and the same mentions:

- one process: `teammate serve` running the answers itself, durable on (the baseline);
- workers: `teammate serve` with TEAMMATE_SESSIONS=workers acknowledging and queueing, and
  one `teammate worker` taking the answers off the queue. Only the worker's CPU is counted.

For each: the measured process's CPU (from /proc) over some seconds with nothing to do; then
single mentions one at a time on the quiet process, each timed from its send to the end of
its answer in the sandbox (what waiting for the queue adds shows as the difference between
the two setups); then mentions at a moderate steady rate, the CPU per answer being the
process's CPU from the first send to the last answer, less what it uses at rest over that
time.

    python -m bench.worker_cpu
    python -m bench.worker_cpu --rate 5 --seconds 10 --idle 10

Keep a setup's mentions under about 90 a minute: beyond, the bot paces its own Slack calls to
the workspace's rate tiers (bot/slack/render/limiter.py) and the answers wait for the next
minute, which is not CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ack_workers import cpu_seconds, spawn, start_worker, worker_env
from bench.load import JSON, open_loop
from bench.procs import Child
from bench.report import OtherWork, Result, Row, to_text
from bench.stats import percentile
from bench.world import world_main
from bot.testkit.databases import fresh_postgres
from bot.testkit.processes import free_port, stop_gracefully, until_ready

RATE = 5.0
SECONDS = 10.0
IDLE_SECONDS = 10.0
PROBES = 8
PROBE_GAPS = (0.5, 0.63, 0.77, 0.9, 1.04, 1.17, 1.31, 1.44)
"""Pauses before each single mention, spread so the sends land at different points of a
polling interval."""
SETTLE_SECONDS = 2.0
DRAIN_SECONDS = 60.0
ANSWER = "Short answer: yes, that works."
SETUPS = {"one": "one process (serve, durable)", "workers": "worker (serve acks + worker)"}


@dataclass
class Figures:
    """What one setup measured."""

    rest: float = 0.0
    """CPU seconds a second with nothing to do."""
    waits: list[float] = field(default_factory=list)
    """Seconds from a single mention's send to the end of its answer, on a quiet process."""
    busy: float = 0.0
    """CPU seconds from the first send at the steady rate to the last answer."""
    window: float = 0.0
    answers: int = 0

    @property
    def per_answer(self) -> float:
        return (self.busy - self.rest * self.window) / self.answers if self.answers else 0.0


class CpuRun:
    """The world, then each setup in turn."""

    def __init__(self, seconds: float, rate: float, idle: float) -> None:
        self.rate, self.idle = rate, idle
        self.count = int(rate * seconds)
        self.figures: dict[str, Figures] = {}
        self.load: list[float] = []

    async def measure(self) -> None:
        self.load.append(os.getloadavg()[0])
        mentions = len(SETUPS) * (PROBES + self.count)
        world = Child(world_main, mentions, 0, ANSWER, name="world")
        self.world_info = await world.start(within=180)
        bodies: list[bytes] = self.world_info.pop("mentions")
        self.world_info.pop("asks")
        try:
            for setup in SETUPS:
                mine, bodies = bodies[: PROBES + self.count], bodies[PROBES + self.count :]
                async with self._processes(setup) as (url, measured):
                    self.figures[setup] = await self._measure(world, url, measured, mine)
        finally:
            await world.stop(within=10)
        self.load.append(os.getloadavg()[0])

    @asynccontextmanager
    async def _processes(self, setup: str) -> AsyncIterator[tuple[str, int]]:
        """The setup's processes on a fresh database: the URL Slack's requests go to and the
        process id whose CPU is counted."""
        async with fresh_postgres(prefix="teammate_bench") as (db, unreachable):
            if db is None:
                raise SystemExit(f"PostgreSQL is needed and not reachable: {unreachable}")
            with tempfile.TemporaryDirectory(prefix="bench-cpu-") as workdir:
                sessions = "here" if setup == "one" else "workers"
                serve_dir = Path(tempfile.mkdtemp(prefix="serve-", dir=workdir))
                port, serve = await self._serve(db.url, serve_dir, sessions)
                processes = [serve]
                try:
                    measured = serve.pid
                    if setup == "workers":
                        worker_dir = Path(tempfile.mkdtemp(prefix="worker-", dir=workdir))
                        worker = await start_worker(self.world_info, db.url, worker_dir)
                        processes.append(worker)
                        measured = worker.pid
                    yield f"http://127.0.0.1:{port}", measured
                finally:
                    for process in processes:
                        await stop_gracefully(process)

    async def _serve(
        self, database_url: str, data_dir: Path, sessions: str
    ) -> tuple[int, subprocess.Popen[bytes]]:
        port = free_port()
        env = {
            **worker_env(self.world_info, database_url, str(data_dir)),
            "SLACK_SIGNING_SECRET": self.world_info["signing_secret"],
            "TEAMMATE_SESSIONS": sessions,
            "TEAMMATE_EXECUTOR_ID": f"bench-serve-{sessions}",
        }
        command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
        log_path = data_dir / "serve.log"
        return port, await until_ready(spawn(command, env, log_path), port, log_path, within=180)

    async def _measure(self, world: Child, url: str, pid: int, bodies: list[bytes]) -> Figures:
        figures = Figures()
        secret = self.world_info["signing_secret"]
        await asyncio.sleep(SETTLE_SECONDS)
        before = cpu_seconds(pid)
        await asyncio.sleep(self.idle)
        figures.rest = (cpu_seconds(pid) - before) / self.idle
        for gap, body in zip(PROBE_GAPS, bodies[:PROBES], strict=True):
            await asyncio.sleep(gap)
            finished = await _finished(world)
            sent = time.monotonic()
            await open_loop(url + "/slack/events", [body], JSON, secret, self.rate)
            await _until_finished(world, finished + 1, DRAIN_SECONDS)
            figures.waits.append(time.monotonic() - sent)
        finished = await _finished(world)
        before, started = cpu_seconds(pid), time.monotonic()
        await open_loop(url + "/slack/events", bodies[PROBES:], JSON, secret, self.rate)
        done = await _until_finished(world, finished + self.count, DRAIN_SECONDS)
        figures.busy = cpu_seconds(pid) - before
        figures.window = time.monotonic() - started
        figures.answers = done - finished
        return figures

    def result(self, other: str) -> Result:
        one, workers = self.figures["one"], self.figures["workers"]
        rows = [
            Row(f"CPU at rest, {label}", f"{self.figures[setup].rest * 1000:.0f} ms a second")
            for setup, label in SETUPS.items()
        ]
        rows.append(Row("worker at rest / one process at rest", _ratio(workers.rest, one.rest)))
        rows += [
            Row(
                f"CPU per answer at {self.rate:g}/s less rest, {label}",
                f"{self.figures[setup].per_answer * 1000:.0f} ms ({self.figures[setup].answers} "
                f"answers, {self.figures[setup].busy:.1f} s in {self.figures[setup].window:.0f} s)",
            )
            for setup, label in SETUPS.items()
        ]
        rows.append(
            Row(
                "worker per answer / one process per answer",
                _ratio(workers.per_answer, one.per_answer),
            )
        )
        rows += [
            Row(f"quiet mention → answer finished, {label}", _waits(self.figures[setup].waits))
            for setup, label in SETUPS.items()
        ]
        notes = [
            f"Load average {self.load[0]:.1f} at the start and {self.load[-1]:.1f} at the end; "
            f"{other} (the two cores are shared: compare the ratios, from the same run)."
        ]
        return Result("A worker's CPU at rest and per answer", self.method(), rows, notes)

    def method(self) -> str:
        return (
            f"PostgreSQL, a fresh database per setup; per setup the measured process's CPU "
            f"(/proc) over {self.idle:g} s with nothing to do, then {PROBES} single mentions "
            f"one at a time (0.5–1.4 s apart), then {self.count} mentions at {self.rate:g} a "
            "second; one process is `teammate serve` running the answers (the acks included "
            "in its CPU), workers are `teammate serve` with TEAMMATE_SESSIONS=workers and one "
            "`teammate worker` (only the worker's CPU counted); the world (sandbox and fake "
            "model, a short answer at once) at lower CPU priority"
        )


def _ratio(top: float, bottom: float) -> str:
    return f"{top / bottom:.2f}×" if bottom else "n/a"


def _waits(waits: list[float]) -> str:
    return (
        f"p50 {percentile(waits, 50) * 1000:.0f} ms · max {max(waits) * 1000:.0f} ms"
        if waits
        else "n/a"
    )


async def _finished(world: Child) -> int:
    stats: dict[str, Any] = await world.ask("stats")
    return int(stats["answers_finished"])


async def _until_finished(world: Child, count: int, within: float) -> int:
    """Answers finished in the world once ``count`` are (or ``within`` seconds passed)."""
    deadline = time.monotonic() + within
    while (finished := await _finished(world)) < count and time.monotonic() < deadline:  # noqa: ASYNC110 - the world is another process: it is asked
        await asyncio.sleep(0.01)
    return finished


async def run(seconds: float = SECONDS, rate: float = RATE, idle: float = IDLE_SECONDS) -> Result:
    started, other = time.monotonic(), OtherWork()
    benchmark = CpuRun(seconds, rate, idle)
    await benchmark.measure()
    result = benchmark.result(other.summary())
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="A worker's CPU at rest and per answer.")
    parser.add_argument("--rate", type=float, default=RATE, help="answers a second")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="seconds at that rate")
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds at rest")
    args = parser.parse_args()
    print(to_text(asyncio.run(run(args.seconds, args.rate, args.idle))))


if __name__ == "__main__":
    main()
