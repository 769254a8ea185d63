"""The command line as an admin meets it: doctor, manifest, and a start with bad settings."""

from __future__ import annotations

import asyncio
import os
import sys

import yaml

from bot import manifest
from bot.testkit.fakes import FakeOpenAI
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
    assert "SLACK_BOT_TOKEN is missing" in one_line(out)


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


def one_line(out: str) -> str:
    """The output, which must be a single line with no traceback."""
    assert out.strip().count("\n") == 0 and "Traceback" not in out, out
    return out.strip()


async def test_manifest_with_a_bad_url_is_one_line_naming_the_fix(tmp_path) -> None:
    code, out = await teammate("manifest", "--http-url", "not-a-url", env={}, cwd=tmp_path)
    assert code == 2
    assert "--http-url" in one_line(out) and "https://teammate.example.com" in out


async def test_serve_and_run_name_every_missing_setting_at_once(tmp_path) -> None:
    env = {"TEAMMATE_DATA_DIR": str(tmp_path)}
    code, out = await teammate("serve", env=env, cwd=tmp_path)
    assert code == 2
    line = one_line(out)
    assert "SLACK_BOT_TOKEN is missing" in line and "SLACK_SIGNING_SECRET is missing" in line
    code, out = await teammate("run", env=env, cwd=tmp_path)
    assert code == 2
    line = one_line(out)
    assert "SLACK_BOT_TOKEN is missing" in line and "SLACK_APP_TOKEN is missing" in line


async def test_start_when_slack_refuses_the_token_is_one_line(sandbox, model, tmp_path) -> None:
    env = bot_environment(sandbox, model, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong")
    code, out = await teammate("serve", "--port", "0", env=env, cwd=tmp_path)
    assert code == 2
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in one_line(out)
    assert "xoxb-wrong" not in out
    env = bot_environment(sandbox, model, tmp_path, SLACK_APP_TOKEN="xapp-1-wrong")
    code, out = await teammate("run", env=env, cwd=tmp_path)  # start logs, then the one line
    assert code == 2 and "Traceback" not in out and "ERROR" not in out, out
    assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in out.splitlines()[-1]


async def test_start_when_slack_cannot_be_reached_is_one_line(model, tmp_path) -> None:
    for api_url, why in (
        ("http://127.0.0.1:9/api/", "the connection was refused"),
        ("http://teammate-test.invalid/api/", "its host name was not found"),
    ):
        env = {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": api_url,
            "TEAMMATE_DATA_DIR": str(tmp_path),
        }
        code, out = await teammate("serve", "--port", "0", env=env, cwd=tmp_path)
        assert code == 2
        line = one_line(out)
        assert f"Slack could not be reached at {api_url} ({why})" in line
        assert "SLACK_API_URL" in line


async def test_doctor_prints_a_model_failure_once_with_the_keyless_way(
    sandbox, model, tmp_path
) -> None:
    env = doctor_env(sandbox, model, tmp_path, ANTHROPIC_API_KEY="")
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 1
    assert "ERROR" not in out and "Traceback" not in out, out
    [failure] = [line for line in out.splitlines() if "ANTHROPIC_API_KEY" in line]
    assert failure.startswith("✗") and "TEAMMATE_MODEL=local" in failure
    reference = failure.split("reference ")[1][:8]
    assert reference in (tmp_path / "doctor.log").read_text()  # the detail behind the line


async def test_with_no_model_set_the_keys_choose_it(sandbox, model, tmp_path) -> None:
    env = doctor_env(sandbox, model, tmp_path, TEAMMATE_MODEL="")
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 0, out
    assert "Claude Haiku 4.5" in out and "chosen because ANTHROPIC_API_KEY is set" in out
    async with FakeOpenAI(models=("served-model",)) as engine:
        env = doctor_env(
            sandbox,
            model,
            tmp_path,
            TEAMMATE_MODEL="",
            ANTHROPIC_API_KEY="",
            OPENAI_BASE_URL=engine.v1_url,
        )
        code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 0, out
    assert "openai:served-model" in out and "chosen because OPENAI_BASE_URL is set" in out


async def test_start_with_an_unknown_model_is_one_line(sandbox, model, tmp_path) -> None:
    env = bot_environment(sandbox, model, tmp_path, TEAMMATE_MODEL="bogus-model")
    code, out = await teammate("serve", "--port", "0", env=env, cwd=tmp_path)
    assert code == 2
    assert "TEAMMATE_MODEL is not valid: unknown model `bogus-model`" in one_line(out)


async def test_run_stops_on_sigterm_while_it_cannot_connect(tmp_path) -> None:
    """Slack accepts the tokens but its WebSocket cannot be reached: SIGTERM still stops it."""
    from aiohttp import web

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": "ws://127.0.0.1:9/link"})
        user = {"user_id": "U0BOT", "user": "teammate", "team": "Acme", "bot_id": "B0BOT"}
        return web.json_response({"ok": True, **(user if method == "auth.test" else {})})

    app = web.Application()
    app.router.add_post("/api/{method}", api)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    env = {
        **{k: v for k, v in os.environ.items() if k not in CREDENTIALS},
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
        "ANTHROPIC_API_KEY": "test-key",
        "TEAMMATE_MODEL": "anthropic:claude-haiku-4-5",
        "TEAMMATE_DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async for line in process.stdout:  # type: ignore[union-attr]
            if b"ready as teammate" in line:
                break
        await asyncio.sleep(1.0)  # connecting, and failing
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await runner.cleanup()
