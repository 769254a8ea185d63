"""The time a tool step adds to an answer beyond the tool itself.

When the model asks for a tool, the bot must read the call, show the step, run the tool through
the registry's guard (timeout, cap), map its result, draw the finished step and send the next
request. Each run mentions Teammate in the sandbox; the fake model answers with a call of
``noop`` (a tool that does nothing and notes when it started and ended), then with a short
answer. The figure is the gap between the fake writing the last byte of the tool-call response
and the next request reaching it, less the tool's own time. The model, the bot and the sandbox
share one process and one clock (time.perf_counter), so the moments compare directly; the
bot's CPU for the whole run is read with process_time in that process. Runs are one after
another, the bot at its default stream interval, streaming to the sandbox (so each step is also
drawn as a Slack task chunk, once the step has settled for the writer's ``STEP_SETTLE``).

    python -m bench.tool_step
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic_ai import RunContext

from bench.report import OtherWork, Result, Row, to_text
from bench.servers import DEFAULT_STREAM_INTERVAL
from bench.stats import ms, percentile
from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Turn
from bot.core.deps import AnswerDeps
from bot.core.prompts import Prompts
from bot.core.tools.registry import ToolDef, ToolRegistry
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.slack.render.writer import STEP_SETTLE
from bot.testkit.fakes import FakeAnthropic, Text, ToolCalls, ToolUse
from bot.testkit.fakes.base import SSEOut
from bot.testkit.fakes.script import Block
from bot.testkit.stack import MODEL, bot_settings, running_bot

RUNS = 60
"""Fewer than the 90 answers a minute the bot allows itself on chat.startStream."""
TARGET_MS = 20.0


class StepClock(FakeAnthropic):
    """A fake Anthropic that notes when each tool-call response ended and each request came."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrived: list[float] = []
        self.call_ended: list[float] = []
        self.cpu_arrived: list[float] = []
        self.cpu_call_ended: list[float] = []

    async def generate(self, request: web.Request) -> web.StreamResponse:
        self.arrived.append(time.perf_counter())
        self.cpu_arrived.append(time.process_time())
        return await super().generate(request)

    async def write_stream(
        self, out: SSEOut, body: dict[str, Any], reply: Any, blocks: Sequence[Block]
    ) -> None:
        await super().write_stream(out, body, reply, blocks)
        if isinstance(reply, ToolCalls):
            self.call_ended.append(time.perf_counter())
            self.cpu_call_ended.append(time.process_time())

    def clear_clocks(self) -> None:
        for moments in (self.arrived, self.call_ended, self.cpu_arrived, self.cpu_call_ended):
            moments.clear()

    def step_cpu(self) -> list[float]:
        """Per step: the CPU the whole process spent from the call's end to the next request."""
        pairs = zip(self.cpu_call_ended, self.cpu_arrived[1::2], strict=False)
        return [arrived - ended for ended, arrived in pairs]


class NoOp:
    """The tool: does nothing, notes when it ran."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []

    def tool(self) -> ToolDef:
        async def noop(ctx: RunContext[AnswerDeps]) -> str:
            """Do nothing (a benchmark's tool)."""
            started = time.perf_counter()
            self.spans.append((started, time.perf_counter()))
            return "done"

        return ToolDef(noop, risk="read", title=lambda args: "Doing nothing")


async def one_run(box: Sandbox, model: StepClock, i: int) -> None:
    model.script(ToolCalls([ToolUse("noop", {})]), Text(f"Finished {i}."))
    posted = box.post_message("alice", "general", f"<@{box.bot_user_id}> run {i}")
    await box.wait_for_replies("general", posted["ts"], 1, 90.0, done=True, from_bot=True)


async def measure_core(runs: int = RUNS) -> list[float]:
    """The same steps through the agent service alone (no Slack, no sandbox on the loop)."""
    noop = NoOp()
    registry = ToolRegistry()
    registry.add(noop.tool())
    async with StepClock() as model:
        config = CoreConfig(
            anthropic_api_key="test", anthropic_base_url=model.base_url, model=MODEL
        )
        service = AgentService(config, Catalog.load(), Prompts.load(), toolbox=registry)
        try:
            for i in range(runs + 1):
                model.script(ToolCalls([ToolUse("noop", {})]), Text(f"Finished {i}."))
                question = Conversation([Turn("user", f"run {i}", "Alice")])
                async with aclosing(service.stream(question)) as events:
                    async for _ in events:
                        pass
        finally:
            await service.aclose()
    return _added(model, noop)[1:]


def _added(model: StepClock, noop: NoOp) -> list[float]:
    """Per step: next request's arrival less the call's end, less the tool's own time.
    Requests alternate: the question (answered with the call), then the tool's result."""
    steps = zip(model.call_ended, model.arrived[1::2], noop.spans, strict=False)
    return [arrived - ended - (left - entered) for ended, arrived, (entered, left) in steps]


async def measure(runs: int = RUNS) -> dict[str, Any]:
    noop = NoOp()
    async with Sandbox(rate_limits=False, manifest=MANIFEST_PATH) as box, StepClock() as model:
        with tempfile.TemporaryDirectory(prefix="bench-tool-step-") as tmp:
            settings = bot_settings(box, model, Path(tmp), stream_interval=DEFAULT_STREAM_INTERVAL)
            async with running_bot(settings, box, tools=[noop.tool()]):
                await one_run(box, model, -1)  # warm-up: first connections, first queries
                model.clear_clocks()
                noop.spans.clear()
                cpu = time.process_time()
                for i in range(runs):
                    await one_run(box, model, i)
                cpu = time.process_time() - cpu
    return {
        "added": _added(model, noop),
        "step_cpu": model.step_cpu(),
        "core": await measure_core(runs),
        "tool": [left - entered for entered, left in noop.spans],
        "cpu": cpu,
        "runs": runs,
    }


def result_from(measured: dict[str, Any]) -> Result:
    added, core, runs = measured["added"], measured["core"], measured["runs"]
    step_cpu = measured["step_cpu"]
    p95 = percentile(added, 95)
    rows = [
        Row(
            "tool step beyond the tool (tool-call response end → next request)",
            f"p50 {ms(percentile(added, 50))} ms · p95 {ms(p95)} ms · max {ms(max(added))} ms",
            f"p95 < {TARGET_MS:.0f} ms",
            p95 * 1000 < TARGET_MS,
        ),
        Row(
            "the same, the agent service alone (no Slack drawing on the loop)",
            f"p50 {ms(percentile(core, 50))} ms · p95 {ms(percentile(core, 95))} ms",
        ),
        Row(
            "process CPU within the step (bot, sandbox and fake together)",
            f"p50 {ms(percentile(step_cpu, 50))} ms · p95 {ms(percentile(step_cpu, 95))} ms",
        ),
        Row("the no-op tool itself", f"p50 {ms(percentile(measured['tool'], 50))} ms"),
        Row("steps measured", f"{len(added)} of {runs}"),
        Row(
            "process CPU per answer with one tool step (bot, sandbox and fake together)",
            f"{measured['cpu'] / runs * 1000:.0f} ms",
        ),
    ]
    method = (
        f"{runs} mentions one after another (after one warm-up); the fake Anthropic answers each "
        "with a call of a no-op tool, then a short answer; the figure is the time from the fake "
        "writing the tool-call response's last byte to the next request reaching it, less the "
        "tool's own time, on one perf_counter clock in one process (bot, sandbox and fake share "
        f"the event loop and its two cores); bot stream interval {DEFAULT_STREAM_INTERVAL:g} s, "
        f"streaming, so each step is drawn as a task chunk once it has settled for "
        f"{STEP_SETTLE * 1000:.0f} ms; sandbox rate limits off."
    )
    return Result("Time a tool step adds", method, rows)


async def run(runs: int = RUNS) -> Result:
    started = time.monotonic()
    others = OtherWork()
    result = result_from(await measure(runs))
    result.seconds = time.monotonic() - started
    result.notes.append(f"While it ran, {others.summary()}.")
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
