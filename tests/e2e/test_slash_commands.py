"""The slash commands as people meet them: the usage hints Slack shows come from the manifest
that `teammate manifest` prints, the sandbox shows the same ones, and every subcommand a hint
names is answered by its own handler over real HTTP."""

from __future__ import annotations

import aiohttp
import yaml

from bot.sandbox.control import PREFIX
from handlers.help import HELP
from tests.e2e.test_cli import teammate


async def test_the_printed_manifest_and_the_sandbox_show_the_same_commands(
    sandbox, tmp_path
) -> None:
    code, out = await teammate("manifest", env={}, cwd=tmp_path)
    assert code == 0, out
    printed = yaml.safe_load(out)["features"]["slash_commands"]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sandbox.url}{PREFIX}/manifest") as response:
            shown = (await response.json())["commands"]
    assert [(c["command"], c["usage_hint"]) for c in printed] == [
        (c["command"], c["usage_hint"]) for c in shown
    ]
    hints = {c["command"]: c["usage_hint"] for c in shown}
    assert hints["/teammate"] == "help, deep on|off, memory"
    assert hints["/ask"] == "[--deep | --no-deep] <question>"


async def test_each_subcommand_the_hint_names_has_its_own_answer(stack) -> None:
    sandbox = stack.sandbox
    [hint] = [
        c["usage_hint"] for c in sandbox.manifest.command_views() if c["command"] == "/teammate"
    ]
    said: dict[str, str] = {}
    for part in hint.split(", "):
        words = part.split()
        text = " ".join([words[0], words[1].split("|")[0]] if len(words) > 1 else words)
        before = len(sandbox.ephemeral("alice", "general"))
        result = await sandbox.run_command("alice", "general", "/teammate", text)
        assert result["status"] == 200 and not result["failed"], result
        if result["body"]:
            said[words[0]] = str(result["body"])
        else:
            notes = await sandbox.wait_for(
                lambda seen=before: sandbox.ephemeral("alice", "general")[seen:] or None
            )
            said[words[0]] = notes[-1]["text"]
    assert set(said) == {"help", "deep", "memory"}
    assert HELP in said["help"]
    assert "Deep mode is on in this channel" in said["deep"] and HELP not in said["deep"]
    assert "Memory of" in said["memory"] and HELP not in said["memory"]
    other = await sandbox.run_command("alice", "general", "/teammate", "frobnicate")
    assert HELP in str(other["body"])  # anything else is the help
