"""From the model's first token to the first text a person sees in the Slack thread.

A bot that waits for a batch, a timer or a placeholder before drawing makes every answer feel
slow however fast the model is. Each run mentions Teammate in a channel; the fake model opens
its stream at once, holds the first text token back for 0.5 s (as a real model does while it
reads), then streams the rest. The figure is the time from the fake writing that first token
to the sandbox showing text in the thread: the first change to a bot message in the thread,
from the sandbox's change feed. The model, the bot and the sandbox share one process and one
clock (time.monotonic), so the two moments compare directly. Runs are one after another, the
bot at its default stream interval. The sandbox's rate limits are off: an answer about every
second sets the "is thinking…" status about once a second, over that method's Tier 3 (50 a
minute), and the bot then waits out Retry-After before it even calls the model, which is a
different question from this one (the call-count benchmark runs with the limits on).

    python -m bench.first_text
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Result, Row, to_text
from bench.servers import DEFAULT_STREAM_INTERVAL
from bench.stats import ms, percentile
from bench.timed_model import TimedAnthropic
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.testkit.fakes import Text
from bot.testkit.stack import bot_settings, running_bot

RUNS = 60
FIRST_TOKEN_DELAY = 0.5
TOKEN_DELAY = 0.02
ANSWER = (
    "Sure. The deploy runs from the main branch every weekday at ten, and a failed check "
    "stops it before anything reaches production."
)
P95_TARGET_MS = 100.0
PEOPLE = ("alice", "bob", "carol")


def first_visible(records: list[dict[str, Any]], box: Sandbox, thread_ts: str) -> float | None:
    """When a bot message in the thread first changed (the stream starts with text)."""
    ours = {m["ts"] for m in box.replies("general", thread_ts, from_bot=True)}
    for record in records:
        if record.get("kind") in {"message", "message_changed"} and record.get("ts") in ours:
            return float(record["t"])
    return None


def first_call_text(box: Sandbox, thread_ts: str) -> str:
    """The text the bot's first drawing call carried into this thread."""
    for call in box.calls():
        args = call["args"]
        if call["method"] in {"chat.startStream", "chat.postMessage"} and call["ok"]:
            if args.get("thread_ts") == thread_ts:
                return str(args.get("markdown_text") or args.get("text") or "")
    return ""


async def one_run(box: Sandbox, model: TimedAnthropic, i: int) -> dict[str, Any]:
    marker = f"run-{i:03d}"
    model.script(Text(ANSWER, delay=TOKEN_DELAY))
    async with box.subscribe() as changes:
        posted = box.post_message(
            PEOPLE[i % len(PEOPLE)], "general", f"<@{box.bot_user_id}> when do we deploy? {marker}"
        )
        replies = await box.wait_for_replies(
            "general", posted["ts"], 1, 30.0, done=True, from_bot=True
        )
        records = []
        while not changes.queue.empty():
            records.append(changes.queue.get_nowait())
    token = model.first_text_at(marker)
    visible = first_visible(records, box, posted["ts"])
    return {
        "delay": None if token is None or visible is None else visible - token,
        "first_text": first_call_text(box, posted["ts"]),
        "complete": replies[0]["text"].strip() == ANSWER,
    }


async def measure(runs: int = RUNS) -> list[dict[str, Any]]:
    async with (
        Sandbox(rate_limits=False, manifest=MANIFEST_PATH) as box,
        TimedAnthropic(first_token_delay=FIRST_TOKEN_DELAY) as model,
    ):
        with tempfile.TemporaryDirectory(prefix="bench-first-text-") as tmp:
            settings = bot_settings(box, model, Path(tmp), stream_interval=DEFAULT_STREAM_INTERVAL)
            async with running_bot(settings, box):
                await one_run(box, model, -1)  # warm-up: first connections, first queries
                results = [await one_run(box, model, i) for i in range(runs)]
    return results


def result_from(results: list[dict[str, Any]], runs: int) -> Result:
    delays = [r["delay"] for r in results if r["delay"] is not None]
    p95 = percentile(delays, 95)
    rows = [
        Row(
            "first token → first text in the thread",
            f"p50 {ms(percentile(delays, 50))} ms · p95 {ms(p95)} ms · max {ms(max(delays))} ms",
            f"p95 ≤ {P95_TARGET_MS:.0f} ms",
            p95 * 1000 <= P95_TARGET_MS,
        ),
        Row("runs measured", f"{len(delays)} of {runs}"),
        Row("answers complete in Slack", f"{sum(r['complete'] for r in results)} of {runs}"),
        Row(
            "first drawing call carried text",
            f"{sum(bool(r['first_text'].strip()) for r in results)} of {runs}",
        ),
    ]
    method = (
        f"{runs} mentions one after another (after one warm-up); the fake model holds its "
        f"first text token {FIRST_TOKEN_DELAY} s, then streams a word every "
        f"{TOKEN_DELAY * 1000:.0f} ms; time from the fake writing that token to the sandbox's "
        "first change to the bot's message, on one monotonic clock in one process; bot stream "
        f"interval {DEFAULT_STREAM_INTERVAL:g} s (its default); sandbox rate limits off "
        "(answers at about one a second would exceed assistant.threads.setStatus's Tier 3, "
        "which this figure is not about)."
    )
    return Result("First token to first visible text", method, rows)


async def run(runs: int = RUNS) -> Result:
    started = time.monotonic()
    result = result_from(await measure(runs), runs)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
