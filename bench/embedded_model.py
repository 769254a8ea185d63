"""The embedded model on this machine: how soon its first words show in the thread, and how
fast it writes.

Two measurements, both against the real llama.cpp server that `teammate dev` starts:
- from a person posting a question in the sandbox to the first text of the answer visible
  in the thread (the whole path: event, bot, model, Slack drawing), over several questions;
- the model's own speed: a streamed completion straight to its OpenAI-compatible endpoint,
  with its tokens counted by the server's tokenizer, from the first token to the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2

from bench.report import Result, Row, to_text
from bench.stats import ms, percentile
from bot.app import Runtime
from bot.core.catalog import Catalog
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.testkit.stack import bot_settings, running_bot

QUESTIONS = (
    "What is the capital of France?",
    "Say hello to the team.",
    "Name three colours.",
    "What day comes after Monday?",
    "Write one sentence about the sea.",
)
RUNS = 10
FIRST_TEXT_TARGET_S = 2.0
PEOPLE = ("alice", "bob", "carol")


async def first_text_delay(box: Sandbox, i: int) -> dict[str, Any]:
    question = QUESTIONS[i % len(QUESTIONS)]
    async with box.subscribe() as changes:
        sent = time.monotonic()
        posted = box.post_message(PEOPLE[i % 3], "general", f"<@{box.bot_user_id}> {question}")
        replies = await box.wait_for_replies(
            "general", posted["ts"], 1, 120.0, done=True, from_bot=True
        )
        records = []
        while not changes.queue.empty():
            records.append(changes.queue.get_nowait())
    ours = {r["ts"] for r in replies}
    shown = [
        float(r["t"])
        for r in records
        if r.get("kind") in {"message", "message_changed"} and r.get("ts") in ours
    ]
    return {"delay": min(shown) - sent if shown else None, "text": replies[0]["text"]}


async def model_speed(base_url: str) -> dict[str, float]:
    """Tokens a second of one streamed completion, first token to last."""
    body = {
        "model": "local",
        "stream": True,
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "Tell me a short story about a lighthouse."}],
    }
    text, first, last = "", None, None
    async with httpx2.AsyncClient(timeout=120) as client:
        async with client.stream("POST", base_url + "/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                if delta:
                    now = time.monotonic()
                    first = first or now
                    last = now
                    text += delta
        root = base_url.removesuffix("/v1")
        counted = await client.post(root + "/extras/tokenize", json={"input": text})
        tokens = len(counted.json()["tokens"])
    seconds = (last or 0) - (first or 0)
    return {"tokens": tokens, "seconds": seconds, "rate": (tokens - 1) / seconds if seconds else 0}


def model_label() -> str:
    """How the catalog names the embedded model (what the answers' footers show)."""
    return Catalog.load().resolve("local").label


@contextlib.asynccontextmanager
async def embedded_bot() -> AsyncIterator[tuple[Sandbox, Runtime]]:
    """The sandbox and a bot answering on the embedded model, as `teammate dev` runs them."""
    async with Sandbox(rate_limits=False, manifest=MANIFEST_PATH) as box:
        with tempfile.TemporaryDirectory(prefix="bench-embedded-") as tmp:
            settings = bot_settings(box, None, Path(tmp), model="local", anthropic_api_key=None)
            async with running_bot(settings, box) as (runtime, _):
                yield box, runtime


async def measure(runs: int = RUNS) -> tuple[list[dict[str, Any]], dict[str, float]]:
    async with embedded_bot() as (box, runtime):
        await first_text_delay(box, -1)  # warm-up: the model's first load into cache
        results = [await first_text_delay(box, i) for i in range(runs)]
        speed = await model_speed(runtime.local_model.base_url)
    return results, speed


def result_from(results: list[dict[str, Any]], speed: dict[str, float], runs: int) -> Result:
    delays = [r["delay"] for r in results if r["delay"] is not None]
    worst = max(delays)
    rows = [
        Row(
            "question sent → first text of the answer in the thread",
            f"p50 {ms(percentile(delays, 50))} ms · max {ms(worst)} ms",
            f"≤ {FIRST_TEXT_TARGET_S:g} s",
            worst <= FIRST_TEXT_TARGET_S,
        ),
        Row("answers with text", f"{sum(bool(r['text'].strip()) for r in results)} of {runs}"),
        Row(
            "the model's speed",
            f"{speed['rate']:.0f} tokens/s ({speed['tokens']:.0f} tokens in "
            f"{speed['seconds']:.2f} s, first token to last)",
        ),
    ]
    method = (
        f"{model_label()} through llama.cpp's server as `teammate dev` runs it; "
        f"{runs} short questions posted in the sandbox one after another (after one warm-up), "
        "timed from the post to the sandbox's first change to the answer; then one streamed "
        "completion of up to 200 tokens straight to the model's endpoint, its tokens counted "
        "by the server's tokenizer."
    )
    return Result("The embedded model", method, rows)


async def run(runs: int = RUNS) -> Result:
    started = time.monotonic()
    results, speed = await measure(runs)
    result = result_from(results, speed, runs)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
