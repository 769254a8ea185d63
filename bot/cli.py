"""`teammate run | serve | worker | dev | doctor | manifest | knowledge | recover` — the one
entry point (also `python -m bot`).

Whatever stops a start (a missing or wrong setting, a refused token, an unreachable Slack, the
embedded model not installed) ends it with one line that says what to fix, and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot import logs
from bot.core.local_model import LocalModelError
from bot.settings import Mode, Settings, SettingsProblem, load_settings

log = logging.getLogger("teammate.cli")
SLACK_MODES: dict[str, Mode] = {"serve": "http", "run": "socket", "worker": "worker"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "manifest":
            return _manifest(args.http_url)
        settings = load_settings()
        if args.command == "knowledge":
            return _knowledge(settings, args)
        if args.command == "recover":
            return _recover(settings, args.executor)
        # Imported here: it loads the whole app, which `knowledge` does not need.
        from bot.model_choice import require_startable, with_chosen_model

        log_path = _configure_logs(settings, to_file=args.command == "doctor")
        mode = SLACK_MODES.get(args.command)
        if mode:
            settings.require_slack(mode)
            _require_sessions_database(settings, args.command)
        if args.command != "doctor":  # doctor reports a bad file as a failed check
            _require_mcp_config(settings)
        settings, choice = asyncio.run(with_chosen_model(settings))
        if args.command != "doctor":  # doctor reports it as a failed check instead
            require_startable(settings, choice)
        if args.command == "dev":
            from bot.dev import run_dev

            return asyncio.run(
                run_dev(settings, choice, args.port, open_browser=not args.no_browser)
            )
        if args.command == "doctor":
            from bot.doctor import run_doctor

            return asyncio.run(run_doctor(settings, choice, log_path))
        _require_slack_accepts(settings)
        log.info("answering with %s (%s)", choice.ref, choice.reason)
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        if args.command == "worker":
            from bot.worker import run_worker

            return asyncio.run(run_worker(settings, args.host, args.port))
        return asyncio.run(_socket_mode(settings))
    except (SettingsProblem, LocalModelError) as problem:
        print(f"teammate: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teammate", description="An AI teammate for Slack.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="connect to Slack over Socket Mode (no public URL needed)")
    serve = commands.add_parser("serve", help="HTTP mode: POST /slack/events, /healthz, /readyz")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    worker = commands.add_parser(
        "worker", help="run the sessions `serve` replicas queue (PostgreSQL; no Slack requests)"
    )
    worker.add_argument("--host", default="127.0.0.1", help="where --port listens")
    worker.add_argument("--port", type=int, help="serve /healthz and /readyz on this port")
    commands.add_parser("doctor", help="check every setting against the real services")
    dev = commands.add_parser("dev", help="a local Slack in the browser, wired to the real bot")
    dev.add_argument("--port", type=int, default=3000, help="the page's port (default 3000)")
    dev.add_argument("--no-browser", action="store_true", help="don't open a browser")
    knowledge = commands.add_parser("knowledge", help="the team's documents answers can search")
    actions = knowledge.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add files, or every supported file in folders")
    add.add_argument("paths", nargs="+", metavar="PATH")
    actions.add_parser("list", help="the documents: title, source, sections, when added")
    remove = actions.add_parser("remove", help="remove one document")
    remove.add_argument("document", metavar="ID-or-SOURCE")
    recover = commands.add_parser(
        "recover", help="resume the answers a process that will not come back left running"
    )
    recover.add_argument("executor", metavar="EXECUTOR_ID", help="its TEAMMATE_EXECUTOR_ID")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--http-url", help="base URL for HTTP mode, e.g. https://bot.example.com")
    return parser


def _knowledge(settings: Settings, args: argparse.Namespace) -> int:
    from bot.knowledge_cli import CommandFailed, run_knowledge

    logs.configure("WARNING")
    values = args.paths if args.action == "add" else [getattr(args, "document", "")]
    try:
        return asyncio.run(run_knowledge(settings, args.action, values))
    except CommandFailed as failed:
        print(f"teammate: {failed}", file=sys.stderr)
        return failed.status


def _recover(settings: Settings, executor: str) -> int:
    """Queue a gone executor's pending runs for the running processes to resume."""
    from bot.app import recover_executor

    logs.configure("WARNING")
    try:
        ids = asyncio.run(recover_executor(settings, executor))
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        raise SettingsProblem(
            f"could not read the durable runs in TEAMMATE_DATABASE_URL ({type(exc).__name__}): "
            "start `teammate serve` or `run` once (durable answers on, the default) to create "
            "them, and check the database is reachable"
        ) from None
    runs = "run" if len(ids) == 1 else "runs"
    print(f"{executor}: {len(ids)} {runs} handed to the running processes")
    for workflow_id in ids:
        print(f"  {workflow_id}")
    return 0


def _configure_logs(settings: Settings, to_file: bool) -> Path | None:
    """Logs go to stderr; doctor's go to a file, so its report is the only thing printed
    (a failed check's line carries a reference to the detail in that file)."""
    if not to_file:
        logs.configure(settings.log_level)
        return None
    path = settings.data_dir / "doctor.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    logs.configure(settings.log_level, path.open("a", encoding="utf-8"))
    return path


def _require_mcp_config(settings: Settings) -> None:
    """A bad TEAMMATE_MCP_CONFIG stops the start before anything connects."""
    from bot.app import load_mcp

    load_mcp(settings)


def _require_sessions_database(settings: Settings, command: str) -> None:
    """Workers, and the replicas that feed them, share the sessions queue in PostgreSQL."""
    if command == "worker":
        settings.require_workers_database("teammate worker")
    elif settings.sessions == "workers":
        settings.require_workers_database("TEAMMATE_SESSIONS=workers")


def _require_slack_accepts(settings: Settings) -> None:
    from bot.doctor import slack_start_problem

    problem = asyncio.run(slack_start_problem(settings))
    if problem:
        raise SettingsProblem(problem)


def _serve(settings: Settings, host: str, port: int) -> int:
    from aiohttp import web

    from bot.app import Runtime, role_of
    from bot.server import build_web_app

    async def make_app() -> web.Application:
        return build_web_app(await Runtime.start(settings, role=role_of(settings)))

    web.run_app(make_app(), host=host, port=port, print=None, shutdown_timeout=30)
    return 0


async def _socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.app import Runtime, role_of
    from bot.doctor import app_token_refused

    runtime = await Runtime.start(settings, role=role_of(settings))
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    handler = AsyncSocketModeHandler(runtime.app, app_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:  # the first URL asked here, so a refused token stops the start (slack-sdk's
            # connect would retry it forever); apps.connections.open allows about one a minute
            opened = await handler.client.web_client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise SettingsProblem(app_token_refused(exc)) from None
        handler.client.wss_uri = opened["url"]
        await _until_stopped(handler.connect_async(), stop)
    finally:
        await handler.close_async()
        await runtime.close()
    return 0


async def _until_stopped(connect: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Connect, then wait for a stop signal; a signal while still connecting (slack-sdk keeps
    retrying a connection that fails) stops too, rather than being ignored."""
    connecting = asyncio.ensure_future(connect)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        return
    connecting.result()  # a failed connect raises here
    await stopping


def _manifest(http_url: str | None) -> int:
    import yaml
    from pydantic import ValidationError

    from bot import manifest

    data = manifest.load()
    if http_url:
        _require_base_url(http_url)
        data = manifest.http_variant(data, http_url)
    try:
        manifest.check(data)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise SettingsProblem(
            f"manifest.yml is not a manifest Slack accepts ({where}: {exc.errors()[0]['msg']}): "
            "fix that field"
        ) from None
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0


def _require_base_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsProblem(
            f"--http-url {url!r} is not a URL: give the bot's public base URL, "
            "such as https://teammate.example.com (Slack will POST to /slack/events there)"
        )
