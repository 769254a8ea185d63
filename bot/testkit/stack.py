"""The whole product over real HTTP: the sandbox as Slack, a fake model server as the
provider, and the real bot (Bolt app, database, agent) between them.

Stacks follow the product's defaults, durable answers included: each in-process bot launches
DBOS on its own database at start and stops it at the end, so test after test (and a restart
within one test) each get a fresh engine; it costs a stack a few tenths of a second, and the
first one in a test process a few seconds more (DBOS imported and first used). DBOS is one per
process, so two bots at once in one process (two replicas sharing a database) run with
``durable_answers=False``; durable replicas are bots in processes of their own
(bot.testkit.processes)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Runtime
from bot.core.tools.registry import ToolDef
from bot.sandbox import Sandbox
from bot.server import build_web_app
from bot.settings import Settings
from bot.testkit.fakes import FakeAnthropic

MODEL = "anthropic:claude-haiku-4-5"


@dataclass
class Stack:
    sandbox: Sandbox
    model: FakeAnthropic
    runtime: Runtime
    bot_url: str

    def mention(self, text: str, user: str = "alice", channel: str = "general") -> dict:
        return self.sandbox.post_message(user, channel, f"<@{self.sandbox.bot_user_id}> {text}")

    async def answer(self, channel: str, ts: str, count: int = 1, within: float = 20.0) -> list:
        """The bot's replies in a thread once there are ``count`` and the last is finished:
        it carries the footer (with the feedback buttons), or ends with an error note."""

        def finished() -> list | None:
            replies = self.sandbox.replies(channel, ts, from_bot=True)
            if len(replies) < count or any(r["streaming"] for r in replies):
                return None
            last = replies[-1]
            footer = any(b.get("block_id") == "feedback" for b in last.get("blocks") or [])
            done = footer or "(ref `" in last["text"]
            return replies if done else None

        return await self.sandbox.wait_for(finished, within)


def bot_settings(
    sandbox: Sandbox, provider: FakeAnthropic | None, data_dir: Path, **extra
) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": sandbox.bot_token,
        "slack_signing_secret": sandbox.signing_secret,
        "slack_api_url": sandbox.api_url,
        "anthropic_api_key": "test-key",
        "anthropic_base_url": provider.base_url if provider else None,
        "model": MODEL,
        "data_dir": data_dir,
        "stream_interval": 0.25,
        "retry_backoff": 0.05,
        "retry_max_wait": 2.0,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def bot_environment(
    sandbox: Sandbox, provider: FakeAnthropic, data_dir: Path, **changes: str
) -> dict[str, str]:
    """The environment of a bot process wired to ``sandbox`` and ``provider``; a change to
    an empty string leaves that variable out."""
    env = {
        "SLACK_BOT_TOKEN": sandbox.bot_token,
        "SLACK_SIGNING_SECRET": sandbox.signing_secret,
        "SLACK_API_URL": sandbox.api_url,
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": provider.base_url,
        "TEAMMATE_MODEL": MODEL,
        "TEAMMATE_DATA_DIR": str(data_dir),
        **changes,
    }
    return {name: value for name, value in env.items() if value}


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, sandbox: Sandbox, tools: Sequence[ToolDef] = ()
) -> AsyncIterator[tuple[Runtime, str]]:
    """The bot serving HTTP for ``sandbox``; ``tools`` join its built-in ones."""
    runtime = await Runtime.start(settings, tools)
    runner = web.AppRunner(build_web_app(runtime), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/slack/events"
    sandbox.request_url = url
    try:
        yield runtime, url
    finally:
        await runner.cleanup()
