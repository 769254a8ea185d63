"""With no key and no TEAMMATE_MODEL, every command answers with the embedded model."""

from __future__ import annotations

from bot.sandbox import Sandbox
from tests.e2e.test_cli import teammate


async def test_doctor_with_no_key_checks_the_embedded_model(tmp_path) -> None:
    async with Sandbox() as sandbox:
        env = {
            "SLACK_BOT_TOKEN": sandbox.bot_token,
            "SLACK_SIGNING_SECRET": sandbox.signing_secret,
            "SLACK_API_URL": sandbox.api_url,
            "TEAMMATE_DATA_DIR": str(tmp_path),
        }
        code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 0, out
    [line] = [line for line in out.splitlines() if "the model answers" in line]
    assert line.startswith("✓") and "SmolLM2" in line, out
    assert "chosen because no API key is set" in line
