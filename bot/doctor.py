"""`teammate doctor`: checks each setting for real and prints one line per check with a fix.

Bolt only calls auth.test on the first request and an empty signing secret turns every request
into a 500, so a bad deployment would otherwise look fine until someone asks a question.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.app import build_agent
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
    if _secret(settings.slack_signing_secret):
        report(OK, "SLACK_SIGNING_SECRET is set")
    else:
        report(
            FAIL,
            "SLACK_SIGNING_SECRET is missing: copy it from api.slack.com/apps > Basic "
            "Information > Signing Secret (HTTP mode refuses every request without it)",
        )
    if _secret(settings.slack_app_token).startswith("xapp-"):
        report(OK, "SLACK_APP_TOKEN is set (Socket Mode available)")
    elif _secret(settings.slack_app_token):
        report(FAIL, "SLACK_APP_TOKEN should start with xapp- (an app-level token)")
    else:
        report(NOTE, "SLACK_APP_TOKEN is not set: only HTTP mode (teammate serve) is available")
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
        agent = build_agent(settings)
    except Exception as exc:
        report(FAIL, f"TEAMMATE_MODEL: {exc}")
        return
    try:
        report(OK, "the model answers: " + (await agent.check_model()).removeprefix("OK: "))
    except Exception as exc:
        report(FAIL, str(exc))
    finally:
        await agent.aclose()
