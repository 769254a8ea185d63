"""Builds the running application: database, Slack client, core agent, Bolt app and handlers.

`Runtime.start(settings)` is the one place where settings become objects; the HTTP server,
Socket Mode and the CLI all start from it, and `close()` undoes it in reverse.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

import aiohttp
import yaml
from slack_bolt.async_app import AsyncApp

import handlers
from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.config import CoreConfig
from bot.core.prompts import Prompts
from bot.core.store import ClaimStore, Database, ReplyLog, ThreadStore
from bot.settings import Settings
from bot.slack.client import build_session, build_web_client
from bot.slack.context import BotIdentity, ThreadReader
from bot.slack.dedupe import claim_middleware
from bot.slack.directory import Directory
from bot.slack.responder import Responder
from bot.slack.services import Services
from bot.slack.work import WorkTracker

log = logging.getLogger("teammate.app")

DRAIN_SECONDS = 25.0


def core_config(settings: Settings) -> CoreConfig:
    def secret(value) -> str | None:  # type: ignore[no-untyped-def]
        return value.get_secret_value() if value else None

    return CoreConfig(
        anthropic_api_key=secret(settings.anthropic_api_key),
        anthropic_base_url=settings.anthropic_base_url,
        openai_api_key=secret(settings.openai_api_key),
        openai_base_url=settings.openai_base_url,
        model=settings.model,
        fallback_model=settings.fallback_model,
        retry_attempts=settings.retry_attempts,
        retry_max_wait=settings.retry_max_wait,
        retry_backoff=settings.retry_backoff,
    )


def build_agent(settings: Settings) -> AgentService:
    catalog = Catalog.load(settings.seeds_dir / "models.yml")
    prompts = Prompts.load(settings.seeds_dir / "prompts")
    return AgentService(core_config(settings), catalog, prompts)


@dataclass
class Runtime:
    app: AsyncApp
    services: Services
    db: Database
    agent: AgentService
    session: aiohttp.ClientSession
    signing_secret: str

    @property
    def tracker(self) -> WorkTracker:
        return self.services.tracker

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        db = Database(settings.resolved_database_url)
        await db.migrate()
        session = build_session()
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        client = build_web_client(token, settings.slack_api_url, session)
        auth = await client.auth_test()
        identity = BotIdentity(auth["user_id"], auth.get("bot_id") or "", auth.get("team") or "")
        agent = build_agent(settings)
        claims = ClaimStore(db, _owner_id(), settings.claim_lease_seconds)
        await claims.purge()
        threads = ThreadStore(db)
        responder = Responder(
            agent,
            claims,
            threads,
            ReplyLog(db),
            ThreadReader(identity, Directory()),
            stream_interval=settings.stream_interval,
        )
        services = Services(
            responder=responder,
            claims=claims,
            threads=threads,
            identity=identity,
            suggested_prompts=_suggested_prompts(settings),
        )
        signing_secret = (
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else ""
        )
        app = AsyncApp(
            client=client,
            signing_secret=signing_secret or None,
            # The HTTP server checks signatures before parsing (bot.server); Socket Mode
            # needs none.
            request_verification_enabled=False,
            process_before_response=False,
        )
        app.use(claim_middleware(claims))
        handlers.register(app, services)
        log.info("ready as %s in %s", auth.get("user"), identity.team_name)
        return cls(app, services, db, agent, session, signing_secret)

    async def close(self) -> None:
        if not await self.tracker.drain(DRAIN_SECONDS):
            log.warning("stopped with %d answers still running", self.tracker.active)
        await self.agent.aclose()
        await self.session.close()
        await self.db.close()


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _suggested_prompts(settings: Settings) -> list[dict]:
    path = settings.seeds_dir / "suggested_prompts.yml"
    if not path.exists():
        return []
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])[:4]
