"""Builds the running application: database, Slack client, core agent, Bolt app and handlers.

`Runtime.start(settings)` is the one place where settings become objects; the HTTP server,
Socket Mode and the CLI all start from it, and `close()` undoes it in reverse.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import aiohttp
import yaml
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.core.agent import AgentService
from bot.core.approvals import Approvals
from bot.core.catalog import Catalog
from bot.core.config import CoreConfig
from bot.core.grounding import Grounder, KnowledgeGrounder
from bot.core.knowledge import KnowledgeStore, load_seeds
from bot.core.knowledge.tool import knowledge_tool
from bot.core.local_model import LocalModelServer
from bot.core.memory import ChannelMemory
from bot.core.prompts import Prompts
from bot.core.retention import Retention
from bot.core.store import (
    ApprovalStore,
    ChannelSettings,
    ClaimStore,
    Database,
    ReasoningStore,
    ThreadStore,
    UsageLog,
)
from bot.core.store.schedules import ScheduleStore
from bot.core.store.tasks import TaskStore
from bot.core.tasks.handover import handover_tool
from bot.core.tasks.live import LiveTasks
from bot.core.tasks.model import BudgetLimits
from bot.core.tools.mcp import McpServers
from bot.core.tools.mcp_config import McpConfigError, load_mcp_config
from bot.core.tools.registry import ToolDef, ToolRegistry
from bot.core.tools.workspace import workspace_tools
from bot.settings import Settings, SettingsProblem
from bot.slack.admins import Admins
from bot.slack.approvals import ApprovalDesk
from bot.slack.client import build_session, build_web_client
from bot.slack.context import BotIdentity, ThreadReader
from bot.slack.dedupe import claim_middleware
from bot.slack.directory import Directory
from bot.slack.memory_desk import MemoryDesk
from bot.slack.responder import Responder
from bot.slack.schedule_desk import ScheduleDesk
from bot.slack.scheduler import Scheduler, slots_tasks
from bot.slack.services import Services, tell_something_went_wrong
from bot.slack.task_desk import TaskDesk
from bot.slack.task_handover import TaskHandover
from bot.slack.task_salvage import TaskSalvage
from bot.slack.work import WorkTracker
from bot.slack.workspace import SlackWorkspace

if TYPE_CHECKING:
    from bot.core.durable import DurableEngine
    from bot.core.durable.queues import SessionQueue
    from bot.slack.upgrades import Upgrade

log = logging.getLogger("teammate.app")

DRAIN_SECONDS = 25.0
ACK_LINGER_SECONDS = 0.05
"""How long a replica that only acknowledges lets each batch of claims and of queued sessions
wait for company while requests are coming: nobody waits on those writes but the handler
behind the claim, and at a steady rate of single requests one transaction for several costs
a fraction of one each, for this process and for the database (the answer starts up to twice
that much later, on a worker, beside a model's seconds; one after a quiet spell does not
wait)."""

Role = Literal["all", "ack", "worker"]
"""What a process does with the sessions: acknowledges and runs them (``all``: `serve`, `run`
and `dev` by default), acknowledges and enqueues them for workers (``ack``: `serve` with
TEAMMATE_SESSIONS=workers), or runs what the queue holds (``worker``: `teammate worker`)."""


def role_of(settings: Settings) -> Role:
    """The role of a `serve` or `run` process under ``settings``."""
    return "ack" if settings.sessions == "workers" else "all"


def core_config(settings: Settings, local_model_url: str | None = None) -> CoreConfig:
    """The core's configuration: every field read by name from the settings; the embedded
    model's URL is the server this process started, when it started one."""
    return CoreConfig.from_attributes(settings, local_model_url=local_model_url)


def load_catalog(settings: Settings) -> Catalog:
    return Catalog.load(settings.seeds_dir / "models.yml")


def load_mcp(settings: Settings) -> McpServers:
    """The MCP servers TEAMMATE_MCP_CONFIG names (none when unset); a bad file stops the start
    with one line. ``${VAR}`` in it is read from this process's environment."""
    if settings.mcp_config is None:
        return McpServers()
    try:
        configs = load_mcp_config(settings.mcp_config, os.environ)
    except McpConfigError as exc:
        raise SettingsProblem(str(exc)) from None
    return McpServers(configs, environ=os.environ, log_dir=settings.data_dir)


async def start_agent(
    settings: Settings,
    db: Database | None = None,
    *,
    approvals: Approvals | None = None,
    tools: Sequence[ToolDef] = (),
    mcp: McpServers | None = None,
    tasks: LiveTasks | None = None,
) -> tuple[AgentService, LocalModelServer | None]:
    """The agent service, and the embedded model's server when the chosen model is the
    embedded one and no running server was named with TEAMMATE_LOCAL_MODEL_URL. ``tools``
    and ``mcp``'s servers (started by the caller) join the built-in ones; ``approvals``
    decides the calls of those that write or reach outside."""
    catalog = load_catalog(settings)
    local: LocalModelServer | None = None
    local_url = None
    if catalog.resolve(settings.model).provider == "local" and not settings.local_model_url:
        local = LocalModelServer(settings.data_dir / "local-model.log")
        local_url = await local.start()
    prompts = Prompts.load(settings.seeds_dir / "prompts")
    usage = UsageLog(db) if db is not None else None
    memory = ChannelMemory(db, prompts) if db is not None else None
    config = core_config(settings, local_url)
    toolbox = ToolRegistry(tool_timeout=config.tool_timeout)
    for tool in tools:
        toolbox.add(tool)
    if memory is not None:
        toolbox.add(memory.tool())
    if mcp is not None:
        mcp.register(toolbox)
    grounders: list[Grounder] = []
    if db is not None:
        knowledge = KnowledgeStore(db)
        toolbox.add(knowledge_tool(knowledge))
        grounders.append(KnowledgeGrounder(knowledge))
    agent = AgentService(
        config,
        catalog,
        prompts,
        toolbox=toolbox,
        usage=usage,
        memory=memory,
        approvals=approvals,
        grounders=grounders,
        tasks=tasks,
    )
    return agent, local


async def load_knowledge_seeds(settings: Settings, db: Database) -> None:
    """The documents shipped in seeds/knowledge/, stored or brought up to date (idempotent)."""
    outcomes = await load_seeds(KnowledgeStore(db), settings.seeds_dir / "knowledge")
    changed = [o for o in outcomes if o.status in ("added", "updated")]
    for outcome in outcomes:
        if outcome.status == "skipped":
            log.warning("seed document %s skipped: %s", outcome.path, outcome.reason)
    if changed:
        log.info("knowledge: %d seed documents added or updated", len(changed))


@dataclass
class Runtime:
    app: AsyncApp
    services: Services
    db: Database
    agent: AgentService
    session: aiohttp.ClientSession
    signing_secret: str
    local_model: LocalModelServer | None = None
    mcp: McpServers = field(default_factory=McpServers)
    retention: Retention = field(default_factory=lambda: Retention({}))
    durable: DurableEngine | None = None
    sessions: SessionQueue | None = None
    scheduler: Scheduler | None = None
    salvage: TaskSalvage | None = None
    role: Role = "all"

    @property
    def tracker(self) -> WorkTracker:
        return self.services.tracker

    @classmethod
    async def start(
        cls, settings: Settings, tools: Sequence[ToolDef] = (), *, role: Role = "all"
    ) -> Runtime:
        """The running application; ``tools`` join the built-in ones (a benchmark's no-op).
        ``role`` says who runs the sessions (see :data:`Role`)."""
        mcp = load_mcp(settings)
        db = Database(settings.resolved_database_url)
        await db.migrate()
        await load_knowledge_seeds(settings, db)
        session = build_session()
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        client = build_web_client(token, settings.slack_api_url, session)
        auth = await client.auth_test()
        identity = BotIdentity(auth["user_id"], auth.get("bot_id") or "", auth.get("team") or "")
        reader = ThreadReader(identity, Directory())
        workspace = workspace_tools(SlackWorkspace(client, reader))
        approvals = Approvals(ApprovalStore(db), settings.approval_timeout)
        live, handover = LiveTasks(), TaskHandover()
        agent, local_model = await start_agent(
            settings,
            db,
            approvals=approvals,
            tools=[*workspace, handover_tool(handover, live), *tools],
            mcp=mcp,
            tasks=live,
        )
        linger = ACK_LINGER_SECONDS if role == "ack" else 0.0
        claims = ClaimStore(db, _owner_id(), settings.claim_lease_seconds, linger)
        threads = ThreadStore(db)
        channel_settings = ChannelSettings(db)
        reasoning = ReasoningStore(db, keep_days=settings.reasoning_days)
        retention = Retention({"reasoning": reasoning.purge, "claims": claims.purge})
        responder = Responder(
            agent,
            claims,
            threads,
            reader,
            stream_interval=settings.stream_interval,
            channel_settings=channel_settings,
            reasoning=reasoning,
            approvals=approvals,
        )
        tracker = WorkTracker(settings.max_answers)
        admins = Admins(settings.admins)
        desk = ApprovalDesk(approvals, responder, tracker, admins)
        services = Services(
            responder=responder,
            claims=claims,
            threads=threads,
            identity=identity,
            channel_settings=channel_settings,
            reasoning=reasoning,
            tracker=tracker,
            suggested_prompts=_suggested_prompts(settings),
            memory=_memory_desk(agent, responder, admins),
            approvals=desk,
        )
        services.tasks = _task_desk(settings, db, agent, admins)
        handover.install(services, client)
        desk.tasks = services.tasks.runs
        salvage = await _task_salvage(settings, db, services, client, role)
        if role == "all":  # with workers, a task is attached where its workflow is taken up
            await services.tasks.runs.restore(client)
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
        desk.start(client)
        await mcp.start()
        await retention.start()
        durable, sessions = await _durable_answers(settings, services, client, role)
        _tune_garbage_collector()
        log.info("ready as %s in %s", auth.get("user"), identity.team_name)
        runtime = cls(
            app,
            services,
            db,
            agent,
            session,
            signing_secret,
            local_model,
            mcp,
            retention,
            durable,
            sessions,
        )
        runtime.scheduler = _schedules(settings, db, services, admins, client, role)
        runtime.salvage = salvage
        runtime.role = role
        return runtime

    async def close(self) -> None:
        if self.durable is not None and self.role == "worker":
            # Queued sessions stay queued for the other workers. A process that runs its
            # sessions alone goes on taking work while it drains: nothing else would, and a
            # run it resumed may still wait on DBOS's queue for a child (its answer) that
            # would then be taken only after the stop's grace time.
            self.durable.stop_taking()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.salvage is not None:
            await self.salvage.stop()
        if not await self.tracker.drain(DRAIN_SECONDS):
            log.warning("stopped with %d answers still running", self.tracker.active)
        if self.durable is not None:
            await self.durable.stop()
        if self.sessions is not None:
            await self.sessions.close()
        if self.services.approvals is not None:
            await self.services.approvals.stop()
        await self.services.claims.close()
        await self.retention.stop()
        await self.mcp.stop()
        await self.agent.aclose()
        if self.local_model is not None:
            await self.local_model.stop()
        await self.session.close()
        await self.db.close()


def _task_desk(settings: Settings, db: Database, agent: AgentService, admins: Admins) -> TaskDesk:
    """`/task`: the budgets from settings; ``--cost`` only where the catalog prices the model."""
    spec = agent.resolve()
    limits = BudgetLimits(
        minutes=settings.task_minutes,
        tokens=settings.task_tokens,
        cost_usd=settings.task_cost,
        max_minutes=settings.task_max_minutes,
        max_tokens=settings.task_max_tokens,
        max_cost_usd=settings.task_max_cost,
    )
    priced = spec.price_in is not None and spec.price_out is not None
    return TaskDesk(
        TaskStore(db),
        agent.tasks,
        limits,
        admins,
        priced=priced,
        max_tasks=settings.max_tasks,
        interval=settings.stream_interval,
    )


async def _task_salvage(
    settings: Settings, db: Database, services: Services, client: AsyncWebClient, role: Role
) -> TaskSalvage | None:
    """Tasks whose process died and that nothing resumes are ended as interrupted: now, before
    the tasks still running are attached, and every lease from then on, in the processes that
    run tasks. Without durable answers that is every task left queued or working; with them
    (workers always have them), only one whose process died before its card was posted."""
    if role == "ack" or services.tasks is None:
        return None
    desk = services.tasks
    durable = role == "worker" or settings.durable_answers
    slots = ScheduleStore(db, _owner_id())  # their scheduler takes their slots up again
    salvage = TaskSalvage(
        desk.store,
        services.claims,
        desk.runs,
        client,
        durable=durable,
        taken_up=functools.partial(slots_tasks, slots),
    )
    await salvage.sweep()
    salvage.start()
    return salvage


def _schedules(
    settings: Settings,
    db: Database,
    services: Services,
    admins: Admins,
    client: AsyncWebClient,
    role: Role,
) -> Scheduler | None:
    """`/task every ...`: the desk for the commands, and the loop that runs the slots that
    come (started once durable answers have resumed what they left) in the processes that run
    sessions: with workers, they claim the slots and a replica that only acknowledges does not."""
    if services.tasks is None:
        return None
    store = ScheduleStore(db, _owner_id())
    services.schedules = ScheduleDesk(store, services.tasks, admins, settings.timezone)
    if role == "ack":
        return None
    scheduler = Scheduler(store, services.tasks, services, client, settings.schedule_tick)
    scheduler.start()
    return scheduler


async def _durable_answers(
    settings: Settings, services: Services, client: AsyncWebClient, role: Role
) -> tuple[DurableEngine | None, SessionQueue | None]:
    """With TEAMMATE_DURABLE_ANSWERS (always, for workers and the processes that feed them),
    answers run as workflows. Launching the engine resumes the ones this executor left
    running, so everything they use is built before it; a process that only acknowledges
    launches none and enqueues through a client. DBOS is imported only then (it adds about
    12 MiB to a process at rest)."""
    if role == "all" and not settings.durable_answers:
        return None, None
    from bot.core.durable import DurableEngine, queues
    from bot.slack.durable_answers import DurableAnswers
    from bot.slack.durable_tasks import DurableTasks

    url, limit = settings.resolved_database_url, settings.workspace_sessions
    if role == "ack":
        fed = queues.ClientQueue(
            url, limit, settings.max_tasks, settings.release, linger=ACK_LINGER_SECONDS
        )
        await fed.open()
        queues.install(fed)
        if services.tasks is not None:
            services.tasks.durable = DurableTasks(
                services.tasks.runs, client, services.tracker, queued=True
            )
        services.durable = DurableAnswers(
            services.responder,
            services.claims,
            client,
            services.tracker,
            tell_something_went_wrong,
            workers=fed,
        )
        _durable_resumes(services, client, queued=True)
        return None, fed
    engine = DurableEngine(url, settings.executor_id, application_version=settings.release)
    services.durable = DurableAnswers(
        services.responder, services.claims, client, services.tracker, tell_something_went_wrong
    )
    services.durable.install()
    if services.tasks is not None:
        services.tasks.durable = DurableTasks(
            services.tasks.runs, client, services.tracker, queued=role == "worker"
        )
        services.tasks.durable.install()
    _durable_resumes(services, client, queued=False)
    await engine.migrate()
    await _upgrade(url, engine.application_version, services, client).handle(settings.executor_id)
    engine.launch()
    running = queues.RunningQueue(limit, settings.max_tasks)
    if role == "worker":
        await running.open()  # registered, the queues are polled from now on
    queues.install(running)
    return engine, running


def _upgrade(url: str, version: str, services: Services, client: AsyncWebClient) -> Upgrade:
    """What becomes of the runs an earlier build's step layout left (bot.slack.upgrades)."""
    from bot.slack.upgrades import Upgrade

    return Upgrade(url, version, services.tasks.runs if services.tasks else None, client)


async def recover_executor(settings: Settings, executor_id: str) -> list[str]:
    """`teammate recover`: the runs a gone executor left, handed to the running processes.
    Those of an earlier step layout are handled as a start of this build handles its own
    (an answer queued again from its start, a task ended as interrupted, in its thread); the
    rest are queued again as they are, to resume at their last step."""
    from bot.core.durable.engine import release
    from bot.core.durable.recovery import hand_over
    from bot.slack.task_runs import TaskRuns
    from bot.slack.upgrades import Upgrade

    url = settings.resolved_database_url
    db = Database(url)
    session = build_session()
    try:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        client = build_web_client(token, settings.slack_api_url, session)
        runs = TaskRuns(TaskStore(db), LiveTasks())
        upgrade = Upgrade(url, settings.release or release(), runs, client)
        return [*await upgrade.handle(executor_id), *await hand_over(url, executor_id)]
    finally:
        await session.close()
        await db.close()


def _durable_resumes(services: Services, client: AsyncWebClient, *, queued: bool) -> None:
    """The part of an answer after its approvals as a workflow: run here, or queued for the
    workers by a process that only acknowledges."""
    if services.approvals is None:
        return
    from bot.slack.durable_resumes import DurableResumes

    desk = services.approvals
    runs = services.tasks.runs if services.tasks is not None else None
    desk.durable = DurableResumes(
        desk.approvals,
        services.responder,
        services.claims,
        client,
        services.tracker,
        runs,
        queued=queued,
    )
    if not queued:
        desk.durable.install()


def _memory_desk(agent: AgentService, responder: Responder, admins: Admins) -> MemoryDesk | None:
    if agent.memory is None:
        return None
    return MemoryDesk(agent.memory, responder.reader.directory, admins)


def _tune_garbage_collector() -> None:
    """Keep full collections rare and short under load: everything built at start (modules,
    the app, the catalog) moves out of the collector's view, and the youngest generation is
    collected less often. Without this, a backlog of answers made gen-2 passes stall the
    event loop for hundreds of milliseconds, delaying acks."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _suggested_prompts(settings: Settings) -> list[dict]:
    path = settings.seeds_dir / "suggested_prompts.yml"
    if not path.exists():
        return []
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])[:4]
