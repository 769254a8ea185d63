"""Real `teammate serve` and `teammate worker` processes for tests and benchmarks that kill
and restart the bot."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox import Sandbox
from bot.testkit.fakes import FakeAnthropic, Text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


READY_SECONDS = 90


def spawn_serve(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    return spawn_teammate(["serve", "--port", str(port)], env, log_path)


def spawn_teammate(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`teammate ARGS...`, its output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )


async def start_serve(
    env: dict[str, str], port: int, log_path: Path, within: float = READY_SECONDS
) -> subprocess.Popen[bytes]:
    """A `teammate serve` process, returned once it answers /readyz (a loaded machine can take
    tens of seconds to start one: imports, migrations, the knowledge seeds, DBOS's launch)."""
    return await until_ready(spawn_serve(env, port, log_path), port, log_path, within)


async def start_worker(
    env: dict[str, str], port: int, log_path: Path, within: float = READY_SECONDS
) -> subprocess.Popen[bytes]:
    """A `teammate worker` process with its health port on ``port``, returned once ready."""
    process = spawn_teammate(["worker", "--port", str(port)], env, log_path)
    return await until_ready(process, port, log_path, within)


async def until_ready(
    process: subprocess.Popen[bytes], port: int, log_path: Path, within: float = READY_SECONDS
) -> subprocess.Popen[bytes]:
    """``process`` once its /readyz on ``port`` answers 200 (within ``within`` seconds)."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            if process.poll() is not None:
                raise AssertionError(f"the bot exited; its log is in {log_path}")
            await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError(f"the bot did not become ready; its log is in {log_path}")


async def stop_gracefully(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait for the exit in a thread: the process may still need this loop (a
    sandbox in it) to finish."""
    if process.poll() is None:
        process.terminate()
    await asyncio.to_thread(process.wait, 30)


SLOW_ANSWER = " ".join(f"token{i}" for i in range(120))
COMPLETE_ANSWER = "The complete answer."


async def answer_cut_by_sigkill(
    sandbox: Sandbox, model: FakeAnthropic, env: dict[str, str], log_path: Path
) -> tuple[dict[str, Any], int]:
    """Start `teammate serve` on a free port, mention it in #general and SIGKILL it once its
    (slow) answer shows text; a half-written answer is left in the thread. The model's next
    answer is :data:`COMPLETE_ANSWER`. Returns the posted mention and the port, for the
    restart."""
    model.script(Text(SLOW_ANSWER, delay=0.05), Text(COMPLETE_ANSWER))
    posted, port = await mention_cut_by_sigkill(sandbox, env, log_path, "go", bool, within=10)
    half = sandbox.replies("general", posted["ts"], from_bot=True)
    if not (half and half[0]["streaming"]):
        raise AssertionError("the kill left no half-written answer in the thread")
    return posted, port


async def mention_cut_by_sigkill(
    sandbox: Sandbox,
    env: dict[str, str],
    log_path: Path,
    text: str,
    shown: Callable[[str], bool],
    within: float = 20,
) -> tuple[dict[str, Any], int]:
    """Start `teammate serve` on a free port, mention it in #general with ``text`` and SIGKILL
    it once one of its replies there is ``shown`` (given the reply's text). Returns the posted
    mention and the port, for the restart."""
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    bot = await start_serve(env, port, log_path)
    try:
        posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> {text}")
        await sandbox.wait_for(
            lambda: any(shown(r["text"]) for r in sandbox.replies("general", posted["ts"])),
            within,
        )
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    return posted, port


async def complete_answer(sandbox: Sandbox, ts: str, within: float) -> list[dict[str, Any]]:
    """The bot's replies in the #general thread ``ts`` once one is a finished
    :data:`COMPLETE_ANSWER` and the sandbox has settled."""
    await sandbox.wait_for(
        lambda: [
            r
            for r in sandbox.replies("general", ts, from_bot=True)
            if COMPLETE_ANSWER in r["text"] and not r["streaming"]
        ],
        within,
    )
    await sandbox.settle()
    return sandbox.replies("general", ts, from_bot=True)


@contextlib.asynccontextmanager
async def serving(
    env: dict[str, str], port: int, log_path: Path
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A `teammate serve` process (ready) for the body, stopped gracefully after it. The stop
    is awaited in a thread: the bot may still need this loop (a sandbox in it) to finish."""
    bot = await start_serve(env, port, log_path)
    try:
        yield bot
    finally:
        await stop_gracefully(bot)
