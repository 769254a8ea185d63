"""What durability costs per step: the same model requests with DBOS recording each one as a
step of the answer's design and without it, in the same run, on SQLite and on PostgreSQL.

A durable answer records its start, each model request's response (and each risky tool call's
result) and its end in DBOS's tables. Here each request goes through
:class:`~bot.core.durable.steps.RecordedModel` inside a workflow, as a durable answer's do: the
step's own task opens the stream and lends it to the workflow, which reads its ``TOKENS``
pieces, and then the response is pickled and recorded. The model is pydantic-ai's in-process
``FunctionModel`` (no network), so the figure is the time and this process's CPU that recording
adds to every model request. One workflow of ``STEPS`` requests is timed ``ROUNDS`` times after
a warm-up, one at a time, in this process (DBOS's own threads included in the CPU figure),
against the same requests read straight from the model.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from dbos import DBOS
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.function import AgentInfo, FunctionModel

from bench.report import Result, Row, to_text
from bench.stats import percentile
from bot.core.durable import DurableEngine
from bot.core.durable.steps import RecordedModel

STEPS = 20
TOKENS = 50
ROUNDS = 15
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
QUESTION = [ModelRequest.user_text_prompt("How do deploys work?")]


async def _pieces(messages: object, info: AgentInfo):  # type: ignore[no-untyped-def]
    for i in range(TOKENS):
        yield f"word{i} "


MODEL = FunctionModel(stream_function=_pieces)


async def _streamed(model: Model) -> int:
    """One streamed request, read to its end; the length of its text."""
    async with model.request_stream(QUESTION, None, ModelRequestParameters()) as stream:
        async for _ in stream:
            pass
    return len(stream.get().text or "")


@DBOS.workflow(name="bench.durable.requests")
async def durable_requests(steps: int) -> int:
    recorded = RecordedModel(MODEL)
    return sum([await _streamed(recorded) for _ in range(steps)])


async def plain_requests(steps: int) -> int:
    return sum([await _streamed(MODEL) for _ in range(steps)])


async def _timed(run_once) -> tuple[list[float], float]:
    await run_once()  # warm-up: connections, caches
    walls = []
    cpu = time.process_time()
    for _ in range(ROUNDS):
        started = time.perf_counter()
        await run_once()
        walls.append(time.perf_counter() - started)
    return walls, time.process_time() - cpu


async def measure(database_url: str) -> dict[str, float]:
    engine = DurableEngine(database_url, f"bench-{uuid.uuid4().hex[:6]}")
    await engine.migrate()
    engine.launch()
    try:

        async def durable_once() -> None:
            handle = await DBOS.start_workflow_async(durable_requests, STEPS)
            await handle.get_result()

        async def plain_once() -> None:
            await plain_requests(STEPS)

        durable, durable_cpu = await _timed(durable_once)
        plain, plain_cpu = await _timed(plain_once)
    finally:
        await engine.stop(grace_seconds=0)
    per_step = [(d - p) / STEPS for d, p in zip(sorted(durable), sorted(plain), strict=True)]
    return {
        "step_p50_ms": percentile(per_step, 50) * 1000,
        "step_p95_ms": percentile(per_step, 95) * 1000,
        "workflow_p50_ms": percentile(durable, 50) * 1000,
        "cpu_per_step_ms": (durable_cpu - plain_cpu) / (ROUNDS * STEPS) * 1000,
    }


async def on_postgres() -> dict[str, float]:
    name = f"teammate_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        return await measure(f"{base}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def rows_for(label: str, figures: dict[str, float]) -> list[Row]:
    return [
        Row(
            f"{label}: time a recorded model request adds (p50 / p95)",
            f"{figures['step_p50_ms']:.2f} / {figures['step_p95_ms']:.2f} ms",
        ),
        Row(
            f"{label}: CPU a recorded model request adds in this process",
            f"{figures['cpu_per_step_ms']:.2f} ms",
        ),
        Row(
            f"{label}: a workflow of {STEPS} recorded requests, start to result (p50)",
            f"{figures['workflow_p50_ms']:.0f} ms",
        ),
    ]


async def run() -> Result:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await measure(f"sqlite+aiosqlite:///{Path(folder) / 'teammate.db'}")
    postgres = await on_postgres()
    method = (
        f"one workflow of {STEPS} streamed model requests ({TOKENS} pieces each, in-process "
        f"model) recorded as steps, against the same {STEPS} requests without DBOS, "
        f"{ROUNDS} rounds each after a warm-up, one at a time in one process; the difference "
        "per step, paired by rank"
    )
    result = Result(
        "What a durable step costs",
        method,
        rows_for("SQLite", sqlite) + rows_for("PostgreSQL", postgres),
    )
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
