"""A durable answer's model requests and its side-effecting tool calls are recorded steps: a bot
killed mid-answer, once the model's second response is in, starts again with the same executor
id and no Slack retry and finishes the answer without asking the model again for what it had
answered, without running the tool that writes a second time, and with one complete answer in
the thread — the text of the responses before the crash included. A real `teammate serve`
process, a real MCP server over stdio, a scripted model over the Anthropic wire format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bot.core.store import ApprovalStore
from bot.core.store.db import Database
from bot.settings import Settings
from bot.testkit.fakes import FakeAnthropic, Text, ToolCalls, ToolUse
from bot.testkit.processes import (
    COMPLETE_ANSWER,
    SLOW_ANSWER,
    complete_answer,
    mention_cut_by_sigkill,
    serving,
)
from tests.e2e.test_durable_answers import database, durable_environment  # noqa: F401
from tests.mcp.servers import write_config

LEDGER_SERVER = Path(__file__).resolve().parents[1] / "mcp" / "ledger_server.py"
WRITE_TOOL = "ledger_record"
FIRST_WORDS = "I'll record that."
SECOND_WORDS = "Recorded; now the thread."


def ledger_config(folder: Path, ledger: Path) -> Path:
    """An ``mcpServers`` file with the ledger server, whose tools write."""
    entry = {
        "command": sys.executable,
        "args": [str(LEDGER_SERVER)],
        "env": {"LEDGER_FILE": str(ledger)},
        "risk": "write",
    }
    return write_config(folder, {"ledger": entry})


async def always_allow(env: dict[str, str], team_id: str, channel: str, tool: str) -> None:
    """What a click on "Always allow" in ``channel`` stores, stored before the bot starts."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=Path(env["TEAMMATE_DATA_DIR"]),
        database_url=env.get("TEAMMATE_DATABASE_URL"),
    )
    db = Database(settings.resolved_database_url)
    try:
        await db.migrate()
        await ApprovalStore(db).allow(team_id, channel, tool, "U0ALICE")
    finally:
        await db.close()


def last_tool_results(model: FakeAnthropic) -> list[tuple[str, ...]]:
    """For each request to the model, the ids of the tool results its last message carries."""
    seen = []
    for request in model.requests:
        if request.path != "/v1/messages":
            continue
        body: dict[str, Any] = request.json if isinstance(request.json, dict) else {}
        content = (body.get("messages") or [{}])[-1].get("content")
        blocks = content if isinstance(content, list) else []
        seen.append(tuple(b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"))
    return seen


async def test_a_resumed_answer_asks_nothing_again_and_never_writes_twice(
    sandbox,
    model,
    tmp_path,
    database,  # noqa: F811
) -> None:
    ledger = tmp_path / "ledger.txt"
    env = durable_environment(
        sandbox,
        model,
        tmp_path,
        TEAMMATE_EXECUTOR_ID="bot-1",
        TEAMMATE_MCP_CONFIG=str(ledger_config(tmp_path, ledger)),
        **database,
    )
    await always_allow(env, sandbox.team_id, "C0GENERAL", WRITE_TOOL)
    model.script(
        ToolCalls([ToolUse(WRITE_TOOL, {"entry": "deploy 42"}, id="toolu_write")], FIRST_WORDS),
        ToolCalls([ToolUse("read_thread", {}, id="toolu_read")], SECOND_WORDS),
        Text(SLOW_ANSWER, delay=0.05),
        Text(COMPLETE_ANSWER),
    )
    log = tmp_path / "bot.log"
    # Killed once the third response streams: the second was complete and recorded before it.
    posted, port = await mention_cut_by_sigkill(
        sandbox, env, log, "note deploy 42", lambda text: "token1 " in text, within=60
    )
    half = sandbox.replies("general", posted["ts"], from_bot=True)
    assert half and half[-1]["streaming"], "the kill left no half-written answer"
    assert ledger.read_text().splitlines() == ["deploy 42"]

    async with serving(env, port, log):
        replies = await complete_answer(sandbox, posted["ts"], 30)
        # One complete answer: the words of the responses recorded before the crash, then the
        # rest, streamed again from the request the crash cut.
        [answer] = replies
        text = answer["text"]
        assert FIRST_WORDS in text and SECOND_WORDS in text and COMPLETE_ANSWER in text
        assert text.index(FIRST_WORDS) < text.index(SECOND_WORDS) < text.index(COMPLETE_ANSWER)
        assert "token1 " not in text
        # The model was asked each of the first two questions once; the third, which the crash
        # cut, twice.
        assert last_tool_results(model) == [(), ("toolu_write",), ("toolu_read",), ("toolu_read",)]
        assert ledger.read_text().splitlines() == ["deploy 42"]
        asked = [a for a in sandbox.delivery.attempts("event") if a["id"] in posted["event_ids"]]
        assert [a["retry_num"] for a in asked] == [0] * len(posted["event_ids"])
