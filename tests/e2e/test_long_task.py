"""A long task over real HTTP: 200 model calls, each reading a large page, on an engine whose
window is 16k tokens and that refuses, as a real server does, any request that would not fit.
Old tool results are cleared as the history grows, so the task ends with its answer."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_ai import RunContext

from bot.core.deps import AnswerDeps
from bot.core.tools.registry import ToolDef
from bot.resources import SEEDS_DIR
from bot.testkit.fakes import FakeOpenAI
from bot.testkit.fakes.script import Dynamic, Reply, Status, Text, ToolCalls, ToolUse, approx_tokens
from bot.testkit.stack import Stack, bot_settings, running_bot
from tests.e2e.test_tasks import ended, start_task

WINDOW = 16_384
MAX_OUTPUT = 1_024
CALLS = 200
PAGE_CHARS = 8_192
FINAL = "Read all 200 pages: the outage began on page 17."


@dataclass
class SmallEngine:
    """An OpenAI-compatible engine with a 16k window: it refuses a request that does not fit
    (HTTP 400 with vLLM's context-length error), and otherwise asks for the next page until it
    has read them all."""

    sizes: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)

    def reply(self, body: dict[str, Any]) -> Reply:
        asked = approx_tokens(body["messages"], body.get("tools") or [])
        wanted = asked + int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
        if wanted > WINDOW:
            self.refused.append(wanted)
            return Status(
                400,
                "invalid_request_error",
                f"This model's maximum context length is {WINDOW} tokens. However, you "
                f"requested {wanted} tokens ({asked} in the messages, {wanted - asked} in the "
                "completion). Please reduce the length of the messages or completion.",
                error_code="context_length_exceeded",
            )
        self.sizes.append(asked)
        if len(self.sizes) > CALLS:
            return Text(FINAL)
        return ToolCalls([ToolUse("read_page", {"page": len(self.sizes)})])


async def read_page(ctx: RunContext[AnswerDeps], page: int) -> str:
    """Read one page of the incident archive."""
    line = f"Page {page}: the pager fired, the on-call engineer looked, nothing was found. "
    return (line * (PAGE_CHARS // len(line) + 1))[:PAGE_CHARS]


def seeds_with_small_engine(folder: Path) -> Path:
    """The product's seeds, with a catalog entry for the 16k engine."""
    seeds = folder / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    catalog = yaml.safe_load((seeds / "models.yml").read_text(encoding="utf-8"))
    catalog["models"]["small-engine"] = {
        "provider": "openai",
        "model": "small-model",
        "label": "Small engine (16k)",
        "context_window": WINDOW,
        "max_output": MAX_OUTPUT,
        "price_in": 0,
        "price_out": 0,
    }
    (seeds / "models.yml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    return seeds


@pytest.fixture
def engine_script() -> SmallEngine:
    return SmallEngine()


@pytest.fixture
async def stack(sandbox, tmp_path, engine_script) -> AsyncIterator[Stack]:
    async with FakeOpenAI(models=("small-model",), default=Dynamic(engine_script.reply)) as engine:
        settings = bot_settings(
            sandbox,
            None,
            tmp_path,
            model="small-engine",
            seeds_dir=seeds_with_small_engine(tmp_path),
            openai_base_url=engine.v1_url,
            openai_api_key="local",
            task_max_tokens=50_000_000,
            stream_interval=0.1,
        )
        tools = [ToolDef(read_page, title=lambda args: f"Reading page {args.get('page')}")]
        async with running_bot(settings, sandbox, tools) as (runtime, url):
            yield Stack(sandbox, engine, runtime, url)  # type: ignore[arg-type]


@pytest.mark.timeout(300)  # 201 model requests and their Slack updates, on a loaded machine
async def test_200_calls_with_large_results_finish_within_the_window(stack, engine_script) -> None:
    short_id = await start_task(stack, "--tokens 40000000 read the whole incident archive")
    end = await ended(stack, short_id, within=240)
    assert "✅ Done" in end["card"]["text"], end["card"]
    assert any(FINAL in reply["text"] for reply in end["replies"])
    assert engine_script.refused == []
    assert len(engine_script.sizes) == CALLS + 1
    assert max(engine_script.sizes) <= WINDOW - MAX_OUTPUT
    first = stack.model.requests[0].json["messages"]
    system = " ".join(m["content"] for m in first if m["role"] == "system")
    assert f"the memory tool in /memories/tasks/{short_id}/notes.md" in system
    last = str(stack.model.requests[-1].json["messages"])
    assert "cleared to stay within the context window; call it again if needed" in last
    assert "earlier tool calls removed with their results" in last
    assert f"Page {CALLS}: the pager fired" in last  # the newest result reached the model whole
