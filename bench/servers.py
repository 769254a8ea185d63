"""The two servers whose ack latency is compared, each run in its own process.

`bare`: a Bolt AsyncApp that only acks, served the way Teammate is served (an aiohttp
application with POST /slack/events through Bolt's aiohttp adapter, request verification on).
It is the floor: what Bolt and aiohttp cost on this machine before any product code.

`teammate`: the real product (Runtime.start + build_web_app) wired to the world's sandbox and
fake model, so everything after each ack (claims, thread reads, model calls, streaming) runs
in the same process and event loop as the acks being timed.

`ack` (bench.ack_workers): the product acknowledging and enqueueing only
(TEAMMATE_SESSIONS=workers on PostgreSQL), with `worker_main` running the answers in another
process.

All log as production does (INFO, one line per record), to a file rather than the console.
Asked for a "report", a server says how much CPU it used, how late its event loop ran (a probe
that sleeps 10 ms at a time and notes the overshoot), how busy Teammate's database connection
pool was, and how many warnings and errors it logged: the evidence for why an ack was slow.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.procs import answer_until_stopped
from bench.stats import summary_ms
from bot import logs
from bot.app import Runtime
from bot.server import build_web_app
from bot.settings import Settings

MODEL = "anthropic:claude-haiku-4-5"
DEFAULT_STREAM_INTERVAL: float = Settings.model_fields["stream_interval"].default
"""The product's own stream interval; the in-process benchmarks set it as the harness does not."""


def bare_app(world: dict[str, Any]) -> web.Application:
    """A Bolt app whose listeners only ack; its client points at the sandbox (for auth.test)."""
    client = AsyncWebClient(token=world["bot_token"], base_url=world["api_url"])
    app = AsyncApp(client=client, signing_secret=world["signing_secret"])

    @app.event("app_mention")
    async def on_mention(ack: AsyncAck) -> None:
        await ack()

    @app.command("/ask")
    async def on_ask(ack: AsyncAck) -> None:
        await ack()

    async def slack_events(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", slack_events)
    return web_app


def teammate_settings(world: dict[str, Any], data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        slack_bot_token=world["bot_token"],
        slack_signing_secret=world["signing_secret"],
        slack_api_url=world["api_url"],
        anthropic_api_key="bench-key",
        anthropic_base_url=world["model_url"],
        model=MODEL,
        data_dir=data_dir,
    )
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def server_main(
    conn: Connection,
    kind: str,
    world: dict[str, Any],
    workdir: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Serve ``kind`` ("bare", "teammate" or "ack"); state and log go in ``workdir`` (the
    parent's); ``extra`` settings join Teammate's."""
    path = Path(workdir)
    asyncio.run(_logged(path, _serve_logged(conn, kind, world, path, extra or {})))


async def _logged(workdir: Path, body: Coroutine[Any, Any, None]) -> None:
    log_path = workdir / "server.log"
    with log_path.open("w", encoding="utf-8") as log_file:
        sys.stderr = log_file
        logs.configure("INFO")
        try:
            await body
        finally:
            logging.getLogger().handlers.clear()
            sys.stderr = sys.__stderr__


async def _serve_logged(
    conn: Connection, kind: str, world: dict[str, Any], workdir: Path, extra: dict[str, Any]
) -> None:
    log_path = workdir / "server.log"
    pool = None
    try:
        if kind == "bare":
            web_app = bare_app(world)
        else:
            settings = teammate_settings(world, workdir, **extra)
            runtime = await Runtime.start(settings, role="ack" if kind == "ack" else "all")
            web_app = build_web_app(runtime)
            pool = runtime.db.engine.sync_engine.pool
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
    except Exception as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
        return
    probe = LoopProbe(pool)
    conn.send({"url": f"http://127.0.0.1:{runner.addresses[0][1]}"})

    async def report(_: Any) -> dict[str, Any]:
        return {**probe.report(), "logs": _log_levels(log_path)}

    try:
        await answer_until_stopped(conn, report)
    finally:
        probe.stop()
        await runner.cleanup()
    conn.send(None)


class LoopProbe:
    """Measures, in the process it runs in, CPU time, event-loop lateness and (given the
    database's connection pool) how many connections are checked out, every 10 ms."""

    TICK = 0.01

    def __init__(self, pool: Any = None) -> None:
        self.pool = pool
        self.lags: list[float] = []
        self.checked_out: list[int] = []
        self.cpu = time.process_time()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.TICK)
            self.lags.append(max(0.0, loop.time() - before - self.TICK))
            if self.pool is not None:
                self.checked_out.append(self.pool.checkedout())

    def report(self) -> dict[str, Any]:
        """Figures since the last report: CPU seconds, loop lag (ms), pool use."""
        now = time.process_time()
        figures: dict[str, Any] = {
            "cpu_seconds": now - self.cpu,
            "loop_lag_ms": summary_ms(self.lags),
        }
        if self.checked_out:
            most = max(self.checked_out)
            overflow = getattr(self.pool, "_max_overflow", None)  # no public accessor
            figures["pool"] = {
                "limit": self.pool.size() + overflow if isinstance(overflow, int) else None,
                "max": most,
                "share_at_max": self.checked_out.count(most) / len(self.checked_out),
            }
        self.cpu, self.lags, self.checked_out = now, [], []
        return figures

    def stop(self) -> None:
        self.task.cancel()


def _log_levels(path: Path) -> dict[str, Any]:
    """How many log lines of each level the server wrote, and the first few problems."""
    levels: Counter[str] = Counter()
    samples: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 3)
        if len(parts) > 1 and parts[1] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            levels[parts[1]] += 1
            if parts[1] in {"WARNING", "ERROR", "CRITICAL"} and len(samples) < 3:
                samples.append(" ".join(parts[1:]).split(" (Background on this error")[0][:200])
    return {"levels": dict(levels), "samples": samples}
