"""`teammate dev` as a newcomer runs it: no keys, the page comes up answering on the embedded
model, Ctrl-C leaves nothing running, and a restart keeps the conversation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp

KEYS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "TEAMMATE_MODEL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def start_dev(port: int, data_dir: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["TEAMMATE_DATA_DIR"] = str(data_dir)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "dev",
        "--no-browser",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await wait_until_ready(process, port)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process


async def wait_until_ready(process: asyncio.subprocess.Process, port: int) -> None:
    """The URL is printed once the bot and its model are ready; the page must then load."""
    printed = []
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), 300)
        printed.append(line.decode())
        if not line:
            raise AssertionError("teammate dev exited:\n" + "".join(printed))
        if "Open http://127.0.0.1:" in line.decode():
            break
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200 and "<html" in (await page.text()).lower()


async def ask(port: int, text: str) -> dict:
    base = f"http://127.0.0.1:{port}/_sandbox"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            base + "/messages",
            json={
                "user": "alice",
                "channel": "general",
                "text": text,
            },
        ) as response:
            posted = await response.json()
        async with session.get(
            base + "/threads/wait",
            params={
                "channel": posted["channel"],
                "ts": posted["ts"],
                "replies": "1",
                "from_bot": "true",
                "done": "true",
                "timeout": "120",
            },
        ) as response:
            assert response.status == 200, await response.text()
            thread = await response.json()
    return {"ts": posted["ts"], "messages": thread["messages"]}


def durable_runs(data_dir: Path) -> list[tuple[str, str]]:
    """The durable runs DBOS recorded, in its own file beside the database."""
    with contextlib.closing(sqlite3.connect(data_dir / "dbos.sqlite")) as db:
        return db.execute("SELECT name, status FROM workflow_status").fetchall()


async def test_dev_answers_without_keys_and_ctrl_c_leaves_nothing_behind(tmp_path) -> None:
    port = free_port()
    dev = await start_dev(port, tmp_path)
    descendants = children_of(dev.pid)
    try:
        assert descendants  # the embedded model's server runs beside it
        thread = await ask(port, "@teammate Say hello.")
        answer = thread["messages"][-1]
        assert answer["text"].strip() and "Teammate" in str(answer.get("bot_profile", ""))
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(dev.communicate(), 60)
    assert dev.returncode == 0, output.decode()
    assert not [pid for pid in descendants if alive(pid)]
    assert durable_runs(tmp_path) == [("teammate.answer", "SUCCESS")]  # answers are durable

    again = await start_dev(port, tmp_path)  # a restart keeps the conversation
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(
                f"http://127.0.0.1:{port}/_sandbox/threads",
                params={
                    "channel": "general",
                    "ts": thread["ts"],
                },
            ) as response:
                kept = (await response.json())["messages"]
        assert [m["text"] for m in kept] == [m["text"] for m in thread["messages"]]
    finally:
        again.send_signal(signal.SIGINT)
        await asyncio.wait_for(again.communicate(), 60)
