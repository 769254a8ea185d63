"""With durable answers, the part of a task after its approval click is durable too: a real
`teammate serve` killed with SIGKILL while the task waits, or during the resumed part, starts
again with the same executor id and the task ends once, Done, with one complete resumed answer
in its thread and the tool that writes (a real MCP server over stdio) run once. A Stop while
the task waits still ends it, once, after the decision."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import SimpleNamespace

from bot.slack.render.approval_view import APPROVE
from bot.slack.render.task_card import STOP
from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.processes import COMPLETE_ANSWER, SLOW_ANSWER, free_port, serving, start_serve
from bot.testkit.stack import Stack, bot_settings, running_bot
from tests.e2e.test_approvals import NOTE, Noticeboard, prompt_in
from tests.e2e.test_durable_answers import database, durable_environment  # noqa: F401
from tests.e2e.test_tasks import card_of, ended, start_task
from tests.mcp.servers import write_config

LEDGER_SERVER = Path(__file__).resolve().parents[1] / "mcp" / "ledger_server.py"
WRITE_TOOL = "ledger_record"
PAUSED_WORDS = "I'll record that."


def ledger_environment(
    sandbox, model, tmp_path: Path, stored_in: dict[str, str]
) -> tuple[dict[str, str], Path, int]:
    """A durable bot's environment with the ledger server (its tool writes, so it asks for
    approval) and its database setting ``stored_in``; the file that counts the tool's calls;
    the bot's port."""
    ledger = tmp_path / "ledger.txt"
    entry = {
        "command": sys.executable,
        "args": [str(LEDGER_SERVER)],
        "env": {"LEDGER_FILE": str(ledger)},
        "risk": "write",
    }
    config = write_config(tmp_path, {"ledger": entry})
    env = durable_environment(
        sandbox,
        model,
        tmp_path,
        TEAMMATE_EXECUTOR_ID="bot-1",
        TEAMMATE_MCP_CONFIG=str(config),
        **stored_in,
    )
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    return env, ledger, port


def write_then(model, *after: Text) -> None:
    """The task's first reply calls the write tool; ``after``: the replies once it ran."""
    call = ToolUse(WRITE_TOOL, {"entry": "deploy 42"}, id="toolu_write")
    model.script(ToolCalls([call], PAUSED_WORDS), *after)


async def paused_task(seen, env: dict[str, str], port: int, log: Path) -> tuple[str, dict]:
    """A task, in a fresh bot, paused on its write tool: its short id and the prompt; the bot
    is killed once the card shows it waiting."""
    sandbox = seen.sandbox
    bot = await start_serve(env, port, log)
    try:
        short_id = await start_task(seen, "record deploy 42")
        prompt = await prompt_in(sandbox, card_of(sandbox, short_id)["ts"])
        await sandbox.wait_for(
            lambda: "⏸️ Waiting for approval" in card_of(sandbox, short_id)["text"] or None, 20
        )
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    return short_id, prompt


def the_task_ended_once(end: dict, short_id: str) -> list[dict]:
    """The card says Done, one closing line, one complete resumed answer; the thread's other
    replies."""
    card, replies = end["card"], end["replies"]
    assert "✅ Done" in card["text"]
    closings = [r for r in replies if f"task `{short_id}`" in r["text"]]
    assert len(closings) == 1
    assert closings[0]["text"].startswith(f"<@U0ALICE> task `{short_id}` is done.")
    others = [r for r in replies if r not in closings]
    assert [r["text"] for r in others if r["text"] == COMPLETE_ANSWER] == [COMPLETE_ANSWER]
    return others


async def test_a_task_waiting_for_approval_survives_a_restart_and_goes_on_after_approve(
    sandbox,
    model,
    tmp_path,
    database,  # noqa: F811 - SQLite, or PostgreSQL with DBOS in its schema
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, database)
    write_then(model, Text(COMPLETE_ANSWER))
    seen, log = SimpleNamespace(sandbox=sandbox), tmp_path / "bot.log"
    short_id, prompt = await paused_task(seen, env, port, log)
    assert not ledger.exists()  # nothing ran before the click
    async with serving(env, port, log):
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        end = await ended(seen, short_id, within=60)
        await sandbox.settle()
        end["replies"] = sandbox.replies("general", end["card"]["ts"], from_bot=True)
    the_task_ended_once(end, short_id)
    assert ledger.read_text().splitlines() == ["deploy 42"]


async def test_a_resume_killed_mid_way_finishes_after_a_restart_with_no_click(
    sandbox,
    model,
    tmp_path,
    database,  # noqa: F811 - SQLite, or PostgreSQL with DBOS in its schema
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, database)
    # The resumed request streams slowly: the process dies meanwhile.
    write_then(model, Text(SLOW_ANSWER, delay=0.05), Text(COMPLETE_ANSWER))
    seen, log = SimpleNamespace(sandbox=sandbox), tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    try:
        short_id = await start_task(seen, "record deploy 42")
        card = card_of(sandbox, short_id)
        prompt = await prompt_in(sandbox, card["ts"])
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        await sandbox.wait_for(
            lambda: any("token1 " in r["text"] for r in sandbox.replies("general", card["ts"])),
            30,
        )
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    assert ledger.read_text().splitlines() == ["deploy 42"]
    async with serving(env, port, log):
        end = await ended(seen, short_id, within=60)
        await sandbox.settle()
        end["replies"] = sandbox.replies("general", end["card"]["ts"], from_bot=True)
    others = the_task_ended_once(end, short_id)
    assert not [r for r in others if "token1 " in r["text"]]  # the half-written part is gone
    assert [r for r in others if PAUSED_WORDS in r["text"]]  # what came before it stays
    assert ledger.read_text().splitlines() == ["deploy 42"]


async def test_stop_while_a_durable_task_waits_ends_it_once_after_the_decision(
    sandbox, model, tmp_path
) -> None:
    board = Noticeboard()
    settings = bot_settings(sandbox, model, tmp_path, durable_answers=True)
    model.script(
        ToolCalls([ToolUse("post_note", NOTE, id="toolu_pin")], text=PAUSED_WORDS),
        Text("Never asked: the task stopped."),
    )
    async with running_bot(settings, sandbox, board.tools()) as (runtime, url):
        seen = Stack(sandbox, model, runtime, url)
        short_id = await start_task(seen, "pin the freeze note")
        card = card_of(sandbox, short_id)
        prompt = await prompt_in(sandbox, card["ts"])
        await sandbox.click("alice", "general", card["ts"], STOP, short_id)
        [told] = await sandbox.wait_for(lambda: sandbox.ephemeral("alice") or None, 10)
        assert "stops at its next step" in told["text"]
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        end = await ended(seen, short_id)
        await sandbox.settle()
        replies = sandbox.replies("general", card["ts"], from_bot=True)
    assert "⏹️ Stopped" in card_of(sandbox, short_id)["text"]
    closings = [r for r in replies if f"task `{short_id}`" in r["text"]]
    assert len(closings) == 1 and "stopped: stopped by <@U0ALICE>" in closings[0]["text"]
    assert "partial report" in end["replies"][-2]["text"]
    assert board.posted == ["Deploy freeze from 5pm"]  # the approved call ran, once
    assert len(model.requests) == 1  # then the task stopped: the model was not asked again
