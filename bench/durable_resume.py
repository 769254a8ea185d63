"""How soon a restarted bot takes up the answer it was killed in the middle of.

Each round starts `teammate serve` with durable answers on (SQLite), mentions it, SIGKILLs it
once its slow answer shows text, and starts it again (no Slack retry). Clocks from the
restart's spawn: the bot answering /readyz, the resumed answer's first visible change in the
thread (the half-written message deleted) and the complete answer's first words; and from
ready to that change (DBOS re-queues a recovered workflow and its queue is polled once a
second). The sandbox
and the fake model run in this process; the thread is polled every 10 ms.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.report import OtherWork, Result, Row, to_text
from bench.stats import percentile
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.testkit.fakes import FakeAnthropic
from bot.testkit.processes import COMPLETE_ANSWER, answer_cut_by_sigkill, serving
from bot.testkit.stack import bot_environment

ROUNDS = 5
POLL = 0.01


async def _until(condition, within: float = 30.0) -> float:
    """The perf_counter time at which ``condition()`` first held."""
    deadline = time.perf_counter() + within
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the resumed answer did not show")
        await asyncio.sleep(POLL)
    return time.perf_counter()


async def one_round(sandbox: Sandbox, model: FakeAnthropic, folder: Path) -> dict[str, float]:
    env = {
        **os.environ,
        **bot_environment(sandbox, model, folder),
        "TEAMMATE_DURABLE_ANSWERS": "true",
        "TEAMMATE_STREAM_INTERVAL": "0.2",
        "TEAMMATE_LOG_LEVEL": "WARNING",
    }
    log = folder / "bot.log"
    posted, port = await answer_cut_by_sigkill(sandbox, model, env, log)
    half = {r["ts"] for r in sandbox.replies("general", posted["ts"], from_bot=True)}

    def ours() -> list[dict]:
        return sandbox.replies("general", posted["ts"], from_bot=True)

    spawned = time.perf_counter()
    async with serving(env, port, log):
        ready = time.perf_counter()
        changed = await _until(lambda: not half <= {r["ts"] for r in ours()})
        words = await _until(lambda: any(COMPLETE_ANSWER[:8] in r["text"] for r in ours()))
        await _until(lambda: all(not r["streaming"] for r in ours()))
    return {
        "ready": ready - spawned,
        "changed": changed - spawned,
        "after_ready": changed - ready,
        "words": words - spawned,
    }


async def run() -> Result:
    started = time.monotonic()
    other = OtherWork()
    rounds = []
    async with Sandbox(manifest=MANIFEST_PATH) as sandbox, FakeAnthropic() as model:
        for _ in range(ROUNDS):
            with tempfile.TemporaryDirectory() as folder:
                rounds.append(await one_round(sandbox, model, Path(folder)))

    def row(what: str, key: str) -> Row:
        values = [r[key] for r in rounds]
        return Row(what, f"p50 {percentile(values, 50):.2f} s · max {max(values):.2f} s")

    result = Result(
        "A restart taking up a killed answer",
        f"{ROUNDS} rounds: a mention, SIGKILL once its answer shows text, `teammate serve` "
        "started again with no Slack retry (SQLite, durable answers on); times from the "
        "restart's spawn",
        [
            row("restart → ready (/readyz)", "ready"),
            row("restart → the resumed answer's first visible change", "changed"),
            row("ready → the resumed answer's first visible change", "after_ready"),
            row("restart → the complete answer's first words", "words"),
        ],
        notes=[f"While it ran, {other.summary()}."],
    )
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
