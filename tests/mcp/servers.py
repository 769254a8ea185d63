"""Starting the test MCP server for real: its stdio entry, or a streamable HTTP process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

WIKI_SERVER = Path(__file__).with_name("wiki_server.py")


def stdio_entry(**teammate_keys: Any) -> dict[str, Any]:
    """An ``mcpServers`` entry that starts the wiki server over stdio."""
    return {"command": sys.executable, "args": [str(WIKI_SERVER)], **teammate_keys}


def write_config(folder: Path, servers: dict[str, dict[str, Any]]) -> Path:
    """An ``mcpServers`` file holding ``servers``."""
    path = folder / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}, indent=2), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def wiki_over_http(port: int | None = None) -> AsyncIterator[str]:
    """The wiki server as its own process over streamable HTTP; yields its URL."""
    port = port or free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WIKI_SERVER),
        "--http",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with asyncio.timeout(20):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    await asyncio.sleep(0.1)
                    continue
                writer.close()
                break
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if process.returncode is None:
            # A graceful shutdown waits for open client streams (the bot keeps one): give it a
            # few seconds, then the server goes away as a crashed one would.
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    """Wait until ``check()`` holds; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if check():
                return
            await asyncio.sleep(0.05)
