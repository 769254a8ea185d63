"""`teammate dev`: a local Slack in the browser, wired to the real bot, with no workspace.

The sandbox serves the page and emulates Slack; the bot runs in HTTP mode against it with a
generated signing secret and tokens, exactly as it would against Slack. The model is chosen as
for every command (bot.model_choice): with no key set it is the embedded model, so it works
with no key and no network. State (the sandbox's conversations and the bot's database) lives
in the data directory and survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import webbrowser
from collections.abc import Callable

from aiohttp import web
from pydantic import SecretStr

from bot import manifest
from bot.app import Runtime
from bot.model_choice import ModelChoice
from bot.sandbox import Sandbox
from bot.server import build_web_app
from bot.settings import Settings


async def run_dev(
    settings: Settings,
    choice: ModelChoice,
    port: int = 3000,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> int:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    model, reason = choice.ref, choice.reason
    say(f"Teammate dev: a local Slack in your browser (data in {data_dir})")

    sandbox = Sandbox(
        state_path=data_dir / "sandbox.json",
        manifest=manifest.load(),
    )
    await sandbox.start(port=port)
    say(f"• Slack sandbox on {sandbox.url}")
    bot_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(sandbox.bot_token),
            "slack_signing_secret": SecretStr(sandbox.signing_secret),
            "slack_api_url": sandbox.api_url,
            "data_dir": data_dir,
        }
    )
    runner: web.AppRunner | None = None
    runtime: Runtime | None = None
    try:
        started = time.monotonic()
        if model == "local":
            say(f"• starting the embedded model ({reason}; small and English-first)…")
        runtime = await Runtime.start(bot_settings)
        say(f"• bot ready in {time.monotonic() - started:.1f} s, answering with {model} ({reason})")
        runner = web.AppRunner(build_web_app(runtime), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        bot_port = runner.addresses[0][1]
        sandbox.request_url = f"http://127.0.0.1:{bot_port}/slack/events"
        say(f"\n  Open {sandbox.url} — mention @Teammate in #general, or DM it.  Ctrl-C stops.\n")
        if open_browser:
            _open_browser(sandbox.url)
        await _until_stopped()
        say("Stopping…")
    finally:
        if runner is not None:
            await runner.cleanup()  # closes the runtime too (bot.server's on_shutdown)
        elif runtime is not None:
            await runtime.close()
        await sandbox.stop()
    return 0


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _open_browser(url: str) -> None:
    """Only where a graphical browser can exist; a text browser would take the terminal."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if graphical:
        with contextlib.suppress(Exception):
            webbrowser.open(url, new=2)
