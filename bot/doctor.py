"""`teammate doctor`: checks each setting for real and prints one line per check with a fix.

Bolt only calls auth.test on the first request and an empty signing secret turns every request
into a 500, so a bad deployment would otherwise look fine until someone asks a question. The
Slack checks here are also what `serve` and `run` ask before they start, so a wrong token or an
unreachable Slack stops them with the same one line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.app import load_mcp, start_agent
from bot.core.store import Database
from bot.core.tools.mcp import ServerCheck
from bot.model_choice import ModelChoice
from bot.settings import Settings, SettingsProblem, _secret
from bot.slack.client import build_session, build_web_client

OK, FAIL, NOTE = "✓", "✗", "–"
NO_KEY_HINT = "to run with no key, set TEAMMATE_MODEL=local (the embedded model: small, offline)"


async def run_doctor(
    settings: Settings,
    choice: ModelChoice,
    log_path: Path | None = None,
    say: Callable[[str], None] = print,
) -> int:
    failures = 0

    def report(mark: str, line: str) -> None:
        nonlocal failures
        failures += mark == FAIL
        say(f"{mark} {line}")

    await _check_slack(settings, report)
    socket_mode = await _check_app_token(settings, report)
    if _secret(settings.slack_signing_secret):
        report(OK, "SLACK_SIGNING_SECRET is set (HTTP mode available)")
    elif socket_mode:
        report(
            NOTE, "SLACK_SIGNING_SECRET is not set: only Socket Mode (teammate run) is available"
        )
    else:
        report(
            FAIL,
            "SLACK_SIGNING_SECRET is missing: copy it from api.slack.com/apps > Basic "
            "Information > Signing Secret (HTTP mode refuses every request without it)",
        )
    await _check_database(settings, report)
    await _check_model(settings, choice, report)
    await _check_mcp(settings, report)
    if not failures:
        say("All checks passed.")
    else:
        where = f" (details by reference in {log_path})" if log_path else ""
        say(f"{failures} check(s) failed{where}.")
    return 1 if failures else 0


async def slack_start_problem(settings: Settings) -> str | None:
    """What keeps the bot from starting on Slack's side (a refused token, an unreachable
    Slack), or None. The app-level token is not asked here: apps.connections.open allows about
    one call a minute, and Socket Mode's own connect is that call (see app_token_refused)."""
    works, line = await bot_token_status(settings)
    return None if works else line


async def bot_token_status(settings: Settings) -> tuple[bool, str]:
    """(works?, the line to print) for SLACK_BOT_TOKEN, asked of Slack with auth.test."""
    async with build_session() as session:
        client = build_web_client(
            _secret(settings.slack_bot_token), settings.slack_api_url, session
        )
        try:
            auth = await client.auth_test()
        except SlackApiError as exc:
            return False, (
                f"SLACK_BOT_TOKEN was refused by Slack ({exc.response.get('error', 'error')}): "
                "copy the Bot User OAuth Token again from api.slack.com/apps > OAuth & "
                "Permissions (reinstall the app if it was revoked)"
            )
        except Exception as exc:  # noqa: BLE001 - every way of not reaching Slack is one line
            return False, _unreachable(settings, exc)
    return True, f"SLACK_BOT_TOKEN works: @{auth.get('user')} in {auth.get('team')}"


async def app_token_status(settings: Settings) -> tuple[bool, str]:
    """(works?, the line to print) for SLACK_APP_TOKEN: it opens a Socket Mode URL."""
    async with build_session() as session:
        client = build_web_client("", settings.slack_api_url, session)
        try:
            await client.apps_connections_open(app_token=_secret(settings.slack_app_token))
        except SlackApiError as exc:
            return False, app_token_refused(exc)
        except Exception as exc:  # noqa: BLE001
            return False, _unreachable(settings, exc)
    return True, "SLACK_APP_TOKEN works (Socket Mode available)"


def app_token_refused(exc: SlackApiError) -> str:
    return (
        f"SLACK_APP_TOKEN was refused by Slack ({exc.response.get('error')}): create an "
        "app-level token with connections:write under Basic Information > App-Level Tokens"
    )


def _unreachable(settings: Settings, exc: Exception) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        why = "its host name was not found"
    elif isinstance(exc, aiohttp.ClientConnectorError):
        why = "the connection was refused" if _refused(exc) else "no connection"
    elif isinstance(exc, asyncio.TimeoutError | TimeoutError):
        why = "it did not answer in time"
    else:
        why = type(exc).__name__
    return (
        f"Slack could not be reached at {settings.slack_api_url} ({why}): check SLACK_API_URL "
        "(unset means https://slack.com/api/) and this machine's network or proxy"
    )


def _refused(exc: aiohttp.ClientConnectorError) -> bool:
    return isinstance(exc.os_error, ConnectionRefusedError)


async def _check_slack(settings: Settings, report: Callable[[str, str], None]) -> None:
    problems = settings.slack_problems("doctor")
    for problem in problems:
        report(FAIL, problem)
    if not problems:
        works, line = await bot_token_status(settings)
        report(OK if works else FAIL, line)


async def _check_app_token(settings: Settings, report: Callable[[str, str], None]) -> bool:
    """Whether Socket Mode works: the app-level token opens a connection URL."""
    app_token = _secret(settings.slack_app_token)
    if not app_token:
        report(NOTE, "SLACK_APP_TOKEN is not set: only HTTP mode (teammate serve) is available")
        return False
    if not app_token.startswith("xapp-"):
        report(FAIL, "SLACK_APP_TOKEN should start with xapp- (an app-level token)")
        return False
    works, line = await app_token_status(settings)
    report(OK if works else FAIL, line)
    return works


async def _check_database(settings: Settings, report: Callable[[str, str], None]) -> None:
    try:
        db = Database(settings.resolved_database_url)
        try:
            await db.migrate()
        finally:
            await db.close()
    except Exception as exc:
        report(
            FAIL,
            f"database unusable ({type(exc).__name__}): check TEAMMATE_DATABASE_URL "
            "and that the database accepts connections",
        )
        return
    report(OK, "database reachable and up to date")


async def _check_model(
    settings: Settings, choice: ModelChoice, report: Callable[[str, str], None]
) -> None:
    hint = "" if choice.embedded else f"; {NO_KEY_HINT}"
    try:
        agent, local_model = await start_agent(settings)
    except Exception as exc:
        report(FAIL, f"TEAMMATE_MODEL={choice.ref} cannot start: {exc}{hint}")
        return
    try:
        answered = (await agent.check_model()).removeprefix("OK: ")
        report(OK, f"the model answers: {answered} (chosen because {choice.reason})")
    except Exception as exc:
        report(FAIL, f"{exc}{hint}")
    finally:
        await agent.aclose()
        if local_model is not None:
            await local_model.stop()


async def _check_mcp(settings: Settings, report: Callable[[str, str], None]) -> None:
    """One line per MCP server: its tools, or why it does not start and what to fix."""
    if settings.mcp_config is None:
        return
    try:
        servers = load_mcp(settings)
    except SettingsProblem as problem:
        report(FAIL, str(problem))
        return
    if not servers.servers:
        report(NOTE, f"TEAMMATE_MCP_CONFIG ({settings.mcp_config}) lists no MCP servers")
    for check in await servers.check():
        report(*_mcp_line(check, settings.mcp_config))
        if check.ok and check.refused:
            report(FAIL, _refused_line(check, settings.mcp_config))


def _mcp_line(check: ServerCheck, path: Path) -> tuple[str, str]:
    config = check.config
    name = f"MCP server {config.name} ({config.transport}: {config.where})"
    if not check.ok:
        fix = (
            f'fix "command"/"args" of "{config.name}" in {path}'
            if config.transport == "stdio"
            else f'start it, or fix "url" of "{config.name}" in {path}'
        )
        return FAIL, (
            f"{name} does not start: {check.problem}: {fix} (Teammate answers without its "
            "tools and keeps trying)"
        )
    if check.unknown:
        return FAIL, (
            f'{name} has no tool {", ".join(check.unknown)} named in its "tools": fix or remove '
            f"the name in {path}"
        )
    where = "everywhere" if config.channels is None else "in " + ", ".join(sorted(config.channels))
    tools = ", ".join(check.tools) or "none"
    return OK, f"{name} works: {len(check.tools)} tools, risk {config.risk}, {where}: {tools}"


def _refused_line(check: ServerCheck, path: Path) -> str:
    config = check.config
    return (
        f"MCP server {config.name}: {', '.join(check.refused)} left out, named like a built-in "
        f'tool (built-ins win): give the server another name than "{config.name}" in {path}'
    )
