"""Slack retries and crashes never cost an answer and never produce two."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.testkit.fakes import Text
from bot.testkit.stack import bot_environment

SLOW = " ".join(f"token{i}" for i in range(120))


def mention_event_id(stack_or_sandbox, posted: dict) -> str:
    sandbox = getattr(stack_or_sandbox, "sandbox", stack_or_sandbox)
    for event_id in posted["event_ids"]:
        if sandbox.envelope(event_id)["event"]["type"] == "app_mention":
            return event_id
    raise AssertionError("no app_mention event was delivered")


async def test_same_event_three_times_gives_one_answer(stack) -> None:
    stack.model.script(Text(SLOW, delay=0.01))
    posted = stack.mention("count for me")
    event_id = mention_event_id(stack, posted)
    await stack.sandbox.wait_for(lambda: stack.model.requests)
    during = await stack.sandbox.redeliver(event_id, retry_num=1)  # while answering
    await stack.answer("general", posted["ts"])
    after = await stack.sandbox.redeliver(event_id, retry_num=2, reason="http_error")
    assert during["status"] == 200 and after["status"] == 200
    await stack.sandbox.settle()
    await asyncio.sleep(0.5)
    replies = stack.sandbox.replies("general", posted["ts"], from_bot=True)
    assert len(replies) == 1 and replies[0]["text"].strip() == SLOW
    assert len(stack.model.requests) == 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _spawn(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _start_bot(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    """A real `teammate serve` process, returned once it answers /readyz."""
    process = _spawn(env, port, log_path)
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            if process.poll() is not None:
                raise AssertionError(f"the bot exited; its log is in {log_path}")
            await asyncio.sleep(0.1)
    raise AssertionError("the bot did not become ready")


async def test_process_killed_mid_answer_then_slack_retry_gives_one_complete_answer(
    sandbox, model, tmp_path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_CLAIM_LEASE_SECONDS": "1.5",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
    }
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    model.script(Text(SLOW, delay=0.05), Text("The complete answer."))
    first = await _start_bot(env, port, tmp_path / "bot.log")
    try:
        posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> go")
        await sandbox.wait_for(
            lambda: any(r["text"] for r in sandbox.replies("general", posted["ts"])), 10
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        half = sandbox.replies("general", posted["ts"], from_bot=True)
        assert half and half[0]["streaming"]  # a half-written answer is left in the thread

        second = await _start_bot(env, port, tmp_path / "bot.log")
        try:
            await asyncio.sleep(1.6)  # the dead process's lease runs out
            attempt = await sandbox.redeliver(mention_event_id(sandbox, posted), retry_num=1)
            assert attempt["status"] == 200
            await sandbox.wait_for(
                lambda: [
                    r
                    for r in sandbox.replies("general", posted["ts"], from_bot=True)
                    if "complete answer" in r["text"] and not r["streaming"]
                ],
                15,
            )
            await sandbox.settle()
            replies = sandbox.replies("general", posted["ts"], from_bot=True)
            assert [r["text"].strip() for r in replies] == ["The complete answer."]
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
