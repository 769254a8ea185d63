"""`teammate worker`: runs the sessions that `teammate serve` replicas acknowledged and queued.

A worker builds everything an answer needs (the Slack Web API client, the responder, the
stores, the tools, the DBOS engine under its own ``TEAMMATE_EXECUTOR_ID``) but takes no Slack
request: its DBOS takes sessions off the queue (bot.core.durable.queues), at most
``TEAMMATE_WORKSPACE_SESSIONS`` of a workspace at once across all workers. At start it resumes
the sessions this executor left running. With ``--port`` it serves `/healthz` and `/readyz` for
an orchestrator. SIGTERM or SIGINT stops it as `serve` stops: it takes nothing more off the
queues from that moment (what is queued stays there for the other workers), running answers
get their time to finish, and one still running stays recorded for the next start to resume.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import Runtime
from bot.server import build_health_app
from bot.settings import Settings

log = logging.getLogger("teammate.worker")


async def run_worker(settings: Settings, host: str, port: int | None) -> int:
    runtime = await Runtime.start(settings, role="worker")
    runner: web.AppRunner | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        if port is not None:
            runner = web.AppRunner(build_health_app(runtime), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
        log.info("worker %s is taking sessions", settings.executor_id)
        await stop.wait()
        log.info("stopping: taking no more sessions, letting running answers finish")
    finally:
        await runtime.close()
        if runner is not None:
            await runner.cleanup()
    return 0
