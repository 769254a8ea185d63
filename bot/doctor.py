"""`teammate doctor`: checks each setting for real and prints one line per check with a fix.

Bolt only calls auth.test on the first request and an empty signing secret turns every request
into a 500, so a bad deployment would otherwise look fine until someone asks a question.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.app import start_agent
from bot.core.store import Database
from bot.settings import Settings, SettingsProblem, _secret
from bot.slack.client import build_session, build_web_client

OK, FAIL, NOTE = "✓", "✗", "–"


async def run_doctor(settings: Settings, say: Callable[[str], None] = print) -> int:
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
    await _check_model(settings, report)
    say("All checks passed." if not failures else f"{failures} check(s) failed.")
    return 1 if failures else 0


async def _check_slack(settings: Settings, report: Callable[[str, str], None]) -> None:
    try:
        settings.require_slack("doctor")
    except SettingsProblem as problem:
        report(FAIL, str(problem))
        return
    async with build_session() as session:
        client = build_web_client(
            _secret(settings.slack_bot_token), settings.slack_api_url, session
        )
        try:
            auth = await client.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "error")
            report(
                FAIL,
                f"SLACK_BOT_TOKEN was refused by Slack ({error}): copy the Bot User OAuth Token "
                "again from api.slack.com/apps > OAuth & Permissions (reinstall the app if it "
                "was revoked)",
            )
            return
        except Exception as exc:
            report(
                FAIL,
                f"Slack could not be reached at {settings.slack_api_url} ({type(exc).__name__}): "
                "check SLACK_API_URL and the network",
            )
            return
    report(OK, f"SLACK_BOT_TOKEN works: @{auth.get('user')} in {auth.get('team')}")


async def _check_app_token(settings: Settings, report: Callable[[str, str], None]) -> bool:
    """Whether Socket Mode works: the app-level token opens a connection URL."""
    app_token = _secret(settings.slack_app_token)
    if not app_token:
        report(NOTE, "SLACK_APP_TOKEN is not set: only HTTP mode (teammate serve) is available")
        return False
    if not app_token.startswith("xapp-"):
        report(FAIL, "SLACK_APP_TOKEN should start with xapp- (an app-level token)")
        return False
    async with build_session() as session:
        client = build_web_client("", settings.slack_api_url, session)
        try:
            await client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            report(
                FAIL,
                f"SLACK_APP_TOKEN was refused by Slack ({exc.response.get('error')}): create an "
                "app-level token with connections:write under Basic Information > App-Level Tokens",
            )
            return False
        except Exception as exc:
            report(FAIL, f"Slack could not be reached for Socket Mode ({type(exc).__name__})")
            return False
    report(OK, "SLACK_APP_TOKEN works (Socket Mode available)")
    return True


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


async def _check_model(settings: Settings, report: Callable[[str, str], None]) -> None:
    try:
        agent, local_model = await start_agent(settings)
    except Exception as exc:
        report(FAIL, f"TEAMMATE_MODEL: {exc}")
        return
    try:
        report(OK, "the model answers: " + (await agent.check_model()).removeprefix("OK: "))
    except Exception as exc:
        report(FAIL, str(exc))
    finally:
        await agent.aclose()
        if local_model is not None:
            await local_model.stop()
