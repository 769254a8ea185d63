"""Runs the sandbox on its own:

    python -m bot.sandbox --port 3001 --request-url http://127.0.0.1:3000/slack/events \
        --manifest manifest.yml --state sandbox.json

prints the URLs and the secrets to give the bot, then serves until interrupted. A bot in
Socket Mode needs no request URL: it connects with the SLACK_APP_TOKEN printed. With
--manifest the sandbox treats the app as Slack would (its events, commands and name); with
--state the workspace and the secrets survive a restart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from bot.sandbox.app_manifest import ManifestError
from bot.sandbox.server import Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--request-url", help="where the bot receives events (its /slack/events)")
    parser.add_argument(
        "--manifest", help="the app's manifest (YAML or JSON): its events, commands and name"
    )
    parser.add_argument("--state", help="keep the workspace and the secrets in this JSON file")
    parser.add_argument("--signing-secret", help="use this secret instead of a generated one")
    parser.add_argument("--bot-token", help="use this xoxb- token instead of a generated one")
    parser.add_argument("--app-token", help="use this xapp- token instead of a generated one")
    parser.add_argument("--no-rate-limits", action="store_true", help="do not enforce tiers")
    parser.add_argument("--rate-scale", type=float, default=1.0, help="shrink rate windows")
    parser.add_argument("--ack-timeout", type=float, default=3.0)
    parser.add_argument(
        "--retry-schedule",
        default="0,1,5",
        help="seconds before retry 1,2,3 of an unacknowledged event (Slack: 0,60,300)",
    )
    return parser.parse_args(argv)


def banner(sandbox: Sandbox) -> str:
    target = sandbox.request_url or "(Socket Mode, or POST /_sandbox/config)"
    return "\n".join(
        [
            f"Slack sandbox on {sandbox.url}",
            f"  Web API base URL     {sandbox.api_url}",
            f"  control API          {sandbox.url}/_sandbox/",
            f"  events are sent to   {target}",
            f"  SLACK_BOT_TOKEN={sandbox.bot_token}",
            f"  SLACK_SIGNING_SECRET={sandbox.signing_secret}",
            f"  SLACK_APP_TOKEN={sandbox.app_token}   (Socket Mode: teammate run)",
            f"  team {sandbox.team_id}, bot user {sandbox.bot_user_id}, app {sandbox.app_id}",
            f"  app manifest         {sandbox.manifest.source or '(none: all events, commands)'}",
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    schedule = tuple(float(part) for part in args.retry_schedule.split(",") if part.strip())
    sandbox = Sandbox(
        request_url=args.request_url,
        signing_secret=args.signing_secret,
        bot_token=args.bot_token,
        app_token=args.app_token,
        rate_limits=not args.no_rate_limits,
        retry_schedule=schedule,
        ack_timeout=args.ack_timeout,
        rate_scale=args.rate_scale,
        manifest=args.manifest,
        state_path=args.state,
    )
    await sandbox.start(args.host, args.port)
    print(banner(sandbox), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def main(argv: list[str] | None = None) -> None:
    try:
        asyncio.run(serve(parse_args(argv)))
    except ManifestError as exc:
        sys.exit(f"python -m bot.sandbox: {exc}; give --manifest the app's manifest.yml")


if __name__ == "__main__":
    main()
