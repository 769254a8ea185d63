"""The command line as an admin meets it: doctor, manifest, and a start with bad settings."""

from __future__ import annotations

import asyncio
import os
import sys

import yaml

from bot import manifest
from bot.testkit.stack import bot_environment

CREDENTIALS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
)


async def teammate(*args: str, env: dict[str, str], cwd) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**clean, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode, out.decode()


def doctor_env(sandbox, model, tmp_path, **changes: str) -> dict[str, str]:
    return bot_environment(sandbox, model, tmp_path, **changes)


async def test_doctor_passes_when_everything_is_right(sandbox, model, tmp_path) -> None:
    code, out = await teammate("doctor", env=doctor_env(sandbox, model, tmp_path), cwd=tmp_path)
    assert code == 0, out
    assert "✓ SLACK_BOT_TOKEN works" in out and "All checks passed." in out
    assert "Claude Haiku 4.5" in out


async def test_doctor_names_a_wrong_token_and_a_missing_secret(sandbox, model, tmp_path) -> None:
    env = doctor_env(
        sandbox,
        model,
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-wrong",
        SLACK_SIGNING_SECRET="",
        ANTHROPIC_API_KEY="",
    )
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 1
    failures = [line for line in out.splitlines() if line.startswith("✗")]
    assert len(failures) == 3, out
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in failures[0]
    assert "SLACK_SIGNING_SECRET is missing" in failures[1]
    assert "ANTHROPIC_API_KEY" in failures[2]
    assert "xoxb-wrong" not in out


async def test_start_without_a_token_is_one_line_naming_it(tmp_path) -> None:
    code, out = await teammate("serve", env={"TEAMMATE_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert code == 2
    assert out.strip().count("\n") == 0 and "SLACK_BOT_TOKEN is missing" in out


async def test_manifest_command_prints_the_http_variant(tmp_path) -> None:
    code, out = await teammate(
        "manifest", "--http-url", "https://bot.example.com", env={}, cwd=tmp_path
    )
    assert code == 0
    printed = yaml.safe_load(out)
    manifest.check(printed)
    assert printed["settings"]["event_subscriptions"]["request_url"] == (
        "https://bot.example.com/slack/events"
    )


async def test_doctor_for_socket_mode_checks_the_app_token(sandbox, model, tmp_path) -> None:
    env = doctor_env(
        sandbox, model, tmp_path, SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN=sandbox.app_token
    )
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 0, out
    assert "✓ SLACK_APP_TOKEN works" in out and "only Socket Mode" in out
    env["SLACK_APP_TOKEN"] = "xapp-1-wrong"
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 1 and "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in out
