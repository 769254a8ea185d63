"""`teammate run | serve | dev | doctor | manifest` — the one entry point (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from bot import logs
from bot.settings import Settings, SettingsProblem, load_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "manifest":
        return _manifest(args.http_url)
    try:
        settings = load_settings()
        logs.configure(settings.log_level)
        if args.command == "dev":
            from bot.dev import run_dev

            return asyncio.run(run_dev(settings, args.port, open_browser=not args.no_browser))
        if args.command == "doctor":
            from bot.doctor import run_doctor

            return asyncio.run(run_doctor(settings))
        if args.command == "serve":
            settings.require_slack("http")
            return _serve(settings, args.host, args.port)
        settings.require_slack("socket")
        return asyncio.run(_socket_mode(settings))
    except SettingsProblem as problem:
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
    commands.add_parser("doctor", help="check every setting against the real services")
    dev = commands.add_parser("dev", help="a local Slack in the browser, wired to the real bot")
    dev.add_argument("--port", type=int, default=3000, help="the page's port (default 3000)")
    dev.add_argument("--no-browser", action="store_true", help="don't open a browser")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--http-url", help="base URL for HTTP mode, e.g. https://bot.example.com")
    return parser


def _serve(settings: Settings, host: str, port: int) -> int:
    from aiohttp import web

    from bot.app import Runtime
    from bot.server import build_web_app

    async def make_app() -> web.Application:
        return build_web_app(await Runtime.start(settings))

    web.run_app(make_app(), host=host, port=port, print=None, shutdown_timeout=30)
    return 0


async def _socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import Runtime

    runtime = await Runtime.start(settings)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    handler = AsyncSocketModeHandler(runtime.app, app_token)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await handler.connect_async()
        await stop.wait()
    finally:
        await handler.close_async()
        await runtime.close()
    return 0


def _manifest(http_url: str | None) -> int:
    import yaml

    from bot import manifest

    data = manifest.load()
    if http_url:
        data = manifest.http_variant(data, http_url)
    manifest.check(data)
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
