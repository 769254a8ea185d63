"""`teammate run`: the real product in Socket Mode, as a separate process, against the sandbox.

No request URL and no signing secret: everything reaches the bot over the WebSocket it opens
with the app-level token, and its acks travel back the same way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.testkit.fakes import Text
from bot.testkit.stack import bot_environment
from handlers.help import HELP

SLOW = " ".join(f"token{i}" for i in range(100))


def _spawn(env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _start_bot(sandbox, env: dict, log_path: Path) -> subprocess.Popen:
    """A real `teammate run` process, returned once the sandbox sees its socket."""
    process = _spawn(env, log_path)
    for _ in range(300):
        if sandbox.socket_connections():
            return process
        if process.poll() is not None:
            raise AssertionError(f"the bot exited; its log is in {log_path}")
        await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError(f"the bot never connected; its log is in {log_path}")


async def _stop(process: subprocess.Popen) -> int:
    """SIGTERM, as a service manager stops it; the exit status (killed after 30 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _answered(sandbox, ts: str):
    """The bot's replies once the last is finished (it carries the usage footer)."""

    def check() -> list | None:
        replies = sandbox.replies("general", ts, from_bot=True)
        finished = replies and not replies[-1]["streaming"]
        return replies if finished and "tokens" in str(replies[-1]["blocks"]) else None

    return check


def _env(sandbox, model, data_dir: Path) -> dict:
    """Socket Mode: the app-level token and no signing secret (the shell's own settings are
    already cleared by the test fixtures)."""
    return {
        **os.environ,
        **bot_environment(
            sandbox,
            model,
            data_dir,
            SLACK_SIGNING_SECRET="",
            SLACK_APP_TOKEN=sandbox.app_token,
            TEAMMATE_STREAM_INTERVAL="0.2",
        ),
    }


async def test_teammate_run_answers_over_socket_mode(sandbox, model, tmp_path) -> None:
    assert sandbox.request_url is None
    model.script(Text("Hello over a socket."))
    log_path = tmp_path / "bot.log"
    bot = await _start_bot(sandbox, _env(sandbox, model, tmp_path), log_path)
    try:
        posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> hi")
        replies = await sandbox.wait_for(_answered(sandbox, posted["ts"]), 20)
        assert [r["text"].strip() for r in replies] == ["Hello over a socket."]
        assert len(model.requests) == 1

        result = await sandbox.run_command("alice", "general", "/teammate", "help")
        assert result["failed"] is False, result
        (shown,) = sandbox.ephemeral("alice", "general")
        assert shown["text"] == HELP

        assert await sandbox.settle()
        attempts = sandbox.deliveries()
        assert attempts and {a["transport"] for a in attempts} == {"socket"}
        assert all(a["ok"] for a in attempts), attempts
        mention = [a for a in sandbox.deliveries("event") if a["label"] == "app_mention"]
        assert [a["retry_num"] for a in mention] == [0]
        assert sandbox.replies("general", posted["ts"], from_bot=True) == replies
    finally:
        await _stop(bot)


async def test_sigterm_mid_answer_finishes_the_answer_and_exits_cleanly(
    sandbox, model, tmp_path
) -> None:
    model.script(Text(SLOW, delay=0.02))
    log_path = tmp_path / "bot.log"
    bot = await _start_bot(sandbox, _env(sandbox, model, tmp_path), log_path)
    try:
        posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> count")
        await sandbox.wait_for(lambda: sandbox.replies("general", posted["ts"], from_bot=True))
    finally:
        code = await _stop(bot)
    assert code == 0, f"exit status {code}; the log is in {log_path}"
    assert not sandbox.socket_connections()
    (reply,) = sandbox.replies("general", posted["ts"], from_bot=True)
    assert not reply["streaming"] and reply["text"].strip() == SLOW
