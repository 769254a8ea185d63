"""Ack latency at 100 requests a second with the answers on a worker, and CPU per answer.

The deployment that scales out: on PostgreSQL, `teammate serve` with TEAMMATE_SESSIONS=workers
acknowledges each request, claims it and enqueues its answer; a `teammate worker` process takes
the answers off the queue (at most TEAMMATE_WORKSPACE_SESSIONS of one workspace at once, the
default 8: every request here is from one workspace) and streams them into the sandbox. Each
kind of request is sent open-loop at 100 a second, as in bench.ack_latency, first to a bare
Bolt app that only acks and then to that pair, in the same run. The worker shares the
machine's two cores with the acknowledging process, PostgreSQL, the world and the load
generator.

CPU per answer: the acknowledging process's CPU seconds over the requests it took (beside the
bare app's, same run), and the worker's over the answers it finished in the same window (the
rest stay queued and are cut off at the end: at 100 a second the worker runs behind on two
shared cores), less what the worker burns idle (DBOS's threads polling the queue and the
database), measured just before the load.

    python -m bench.ack_workers                # the target's 100 requests a second
    python -m bench.ack_workers --rate 20
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ack_latency
from bench.ack_latency import DRAIN_SECONDS, KINDS, Run
from bench.procs import Child
from bench.report import Result
from bench.servers import MODEL, server_main
from bench.thread_cpu import stat_seconds
from bot.testkit.databases import fresh_postgres
from bot.testkit.processes import free_port, until_ready

WORKER_LOG = "worker.log"
IDLE_SECONDS = 3.0
WORKER_NICE = int(os.environ.get("BENCH_WORKER_NICE", "19"))
"""The worker runs at the lowest CPU priority, as if it had a machine of its own (workers scale
out on other hosts): the acks do not queue behind its answers. BENCH_WORKER_NICE=0 shares the
cores evenly."""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far, from /proc."""
    return stat_seconds(f"/proc/{pid}/stat")


def spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def start_worker(
    world: dict[str, Any], database_url: str, data_dir: Path
) -> subprocess.Popen[bytes]:
    """A `teammate worker` process on ``database_url``, wired to the world's sandbox and fake
    model, once it answers on its health port (its log in ``data_dir``)."""
    port = free_port()
    command = [sys.executable, "-m", "bot", "worker", "--port", str(port)]
    if WORKER_NICE:
        command = ["nice", "-n", str(WORKER_NICE), *command]
    log_path = data_dir / WORKER_LOG
    env = worker_env(world, database_url, str(data_dir))
    return await until_ready(spawn(command, env, log_path), port, log_path, within=180)


def worker_env(world: dict[str, Any], database_url: str, data_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": world["bot_token"],
        "SLACK_API_URL": world["api_url"],
        "ANTHROPIC_API_KEY": "bench-key",
        "ANTHROPIC_BASE_URL": world["model_url"],
        "TEAMMATE_MODEL": MODEL,
        "TEAMMATE_DATA_DIR": data_dir,
        "TEAMMATE_DATABASE_URL": database_url,
        "TEAMMATE_EXECUTOR_ID": "bench-worker",
    }


class WorkersRun(Run):
    """bench.ack_latency's run, with Teammate split into an ack-only server and a worker."""

    def __init__(self, seconds: float, rate: float) -> None:
        super().__init__(seconds, rate)
        self.worker_cpu: dict[str, float] = {}
        self.worker_idle: dict[str, float] = {}
        """CPU seconds a second the worker uses with nothing to do."""
        self.window: dict[str, float] = {}

    async def teammate(self, kind: str, world: Child) -> None:
        async with fresh_postgres(prefix="teammate_bench") as (db, unreachable):
            if db is None:
                raise SystemExit(f"PostgreSQL is needed and not reachable: {unreachable}")
            extra = {"database_url": db.url, "sessions": "workers"}
            with (
                tempfile.TemporaryDirectory(prefix="bench-ack-") as ack_dir,
                tempfile.TemporaryDirectory(prefix="bench-worker-") as worker_dir,
            ):
                server = Child(server_main, "ack", self.world_info, ack_dir, extra, name="teammate")
                worker = await start_worker(self.world_info, db.url, Path(worker_dir))
                try:
                    url = (await server.start(within=180))["url"]
                    await self._measure(kind, world, server, worker, url)
                finally:
                    await server.kill()
                    worker.kill()  # the queued rest is abandoned with the database
                    await asyncio.to_thread(worker.wait, 10)

    async def _measure(
        self, kind: str, world: Child, server: Child, worker: subprocess.Popen[bytes], url: str
    ) -> None:
        before = (await world.ask("stats"))["answers_finished"]
        idle = cpu_seconds(worker.pid)
        await asyncio.sleep(IDLE_SECONDS)
        self.worker_idle[kind] = (cpu_seconds(worker.pid) - idle) / IDLE_SECONDS
        await server.ask("report")
        worker_cpu = cpu_seconds(worker.pid)
        window_start = time.monotonic()
        self.samples["teammate", kind] = await self.load(url, kind)
        self.server["teammate", kind] = await server.ask("report")
        started = time.monotonic()
        while time.monotonic() - started < DRAIN_SECONDS:
            finished = (await world.ask("stats"))["answers_finished"] - before
            if finished >= self.count:
                self.drain[kind] = time.monotonic() - started
                break
            await asyncio.sleep(0.25)
        self.worker_cpu[kind] = cpu_seconds(worker.pid) - worker_cpu
        self.window[kind] = time.monotonic() - window_start
        self.answers[kind] = (await world.ask("stats"))["answers_finished"] - before

    def notes(self) -> list[str]:
        notes = super().notes()
        for kind, (label, _) in KINDS.items():
            acked = self.server["teammate", kind]["cpu_seconds"]
            bare = self.server["bare", kind]["cpu_seconds"]
            worked, idle = self.worker_cpu[kind], self.worker_idle[kind] * self.window[kind]
            answers = self.answers.get(kind, 0)
            per_answer = f"{(worked - idle) / answers * 1000:.0f} ms" if answers else "n/a"
            notes.append(
                f"CPU, {label}: acknowledging process {acked / self.count * 1000:.1f} ms per "
                f"request ({acked:.1f} s for {self.count}, while the load ran; the bare app "
                f"{bare / self.count * 1000:.1f} ms); worker {per_answer} per finished answer "
                f"({worked:.1f} s in {self.window[kind]:.0f} s for {answers} answers, load and "
                f"drain, less {idle:.1f} s idle: it uses {self.worker_idle[kind] * 1000:.0f} ms "
                "a second with nothing to do)"
            )
        return notes

    def title(self) -> str:
        return f"Ack latency at {self.rate:g} requests/s, answers on a worker (PostgreSQL)"

    def method(self) -> str:
        return (
            super().method()
            + " Teammate here is `serve` with TEAMMATE_SESSIONS=workers (acknowledge, claim, "
            "enqueue through a DBOS client) and one `teammate worker` process, on a fresh "
            "PostgreSQL database per kind on the same machine"
            + (f"; the worker at nice {WORKER_NICE}." if WORKER_NICE else ".")
        )


async def run() -> Result:
    """The benchmark as `python -m bench` runs it."""
    return await ack_latency.run(kind=WorkersRun)


def main() -> None:
    ack_latency.main(WorkersRun, "Ack latency with the answers on a worker.")


if __name__ == "__main__":
    main()
