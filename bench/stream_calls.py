"""Slack Web API calls while one long answer streams: how many, how often, and what they carry.

A bot that redraws on every token burns Slack's rate limits and the workspace's patience, and
a bot that resends the same text wastes calls outright. The fake model streams a 2,000-token
answer (word pieces, one every 10 ms, so about 20 s; prose with a fenced Python block) to one
mention; the sandbox enforces Slack's rate limits and logs every call. From that log: calls by
method, calls a second, drawing calls that changed nothing visible (identical-text resends),
calls refused or messages over a limit, 429s, the longest wait between visible updates, and
whether the text in Slack is the model's text, code fence and language included.

    python -m bench.stream_calls
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import Result, Row, to_text
from bench.servers import DEFAULT_STREAM_INTERVAL
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.testkit.fakes import FakeAnthropic, Text
from bot.testkit.fakes.script import split_pieces
from bot.testkit.stack import bot_settings, running_bot

TOKENS = 2000
TOKEN_DELAY = 0.01
CALLS_PER_SECOND_TARGET = 1.0
DRAWING = {"chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update"}
DRAWING_POSTS = DRAWING | {"chat.postMessage"}
CODE = (
    "```python\n"
    "def deploy(branch: str) -> bool:\n"
    "    checks = run_checks(branch)\n"
    "    if not all(checks):\n"
    "        return False\n"
    "    return ship(branch)\n"
    "```\n\n"
)
WORDS = (
    "the release train leaves every weekday at ten and each change rides it only after "
    "review tests and a green build so nobody ships alone or in a hurry"
).split()


def answer_text(tokens: int = TOKENS) -> str:
    """Prose with a fenced Python block, exactly ``tokens`` pieces as the fake streams them."""
    text = "Here is how deploys work, step by step.\n\n" + CODE
    count = len(split_pieces(text))
    i = 0
    while count < tokens - 1:
        i += 1
        word = WORDS[i % len(WORDS)]
        end = ".\n\n" if i % 60 == 0 else ("." if i % 12 == 0 else "")
        text += word + (end if end.endswith("\n") else end + " ")
        count += 1
    return text + "done."


def replay(calls: list[dict[str, Any]], message_ts: list[str]) -> tuple[int, float]:
    """Drawing calls that changed nothing a person sees, and the longest gap between changes.

    ``message_ts`` are the answer's messages, oldest first: the n-th call that opens a message
    (chat.startStream or chat.postMessage) made the n-th of them.
    """
    shown: dict[str, str] = {}
    opened = iter(message_ts)
    resends, last_change, longest = 0, None, 0.0
    for call in calls:
        method, args = call["method"], call["args"]
        if method not in DRAWING_POSTS or not call["ok"]:
            continue
        text = str(args.get("markdown_text") or "")
        if method in {"chat.startStream", "chat.postMessage"}:
            key, before = next(opened, "?"), ""
            after = text or str(args.get("text") or "")
        else:
            key = str(args.get("ts"))
            before = shown.get(key, "")
            after = str(args.get("text") or "") if method == "chat.update" else before + text
        shown[key] = after
        if method != "chat.stopStream" and after == before:
            resends += 1
        if after != before:
            if last_change is not None:
                longest = max(longest, call["t"] - last_change)
            last_change = call["t"]
    return resends, longest


def same_text(model: str, messages: list[str]) -> str:
    """'identical', 'same words' (a fence closed and reopened at a message break), or 'differs'."""
    if "".join(messages) == model:
        return "identical"
    words: list[str] = []
    for i, message in enumerate(messages):
        part = message.split()
        if i and part and part[0].startswith("```") and words and words[-1] == "```":
            words.pop()
            part = part[1:]
        words += part
    return "same words" if words == model.split() else "differs"


async def answered(box: Sandbox, runtime: Any, start: int, thread_ts: str) -> None:
    """Wait until the bot finished the answer (stream stopped, status cleared, work done)."""

    def done() -> bool:
        stopped = any(c["method"] == "chat.stopStream" for c in box.calls()[start:])
        streaming = any(m["streaming"] for m in box.replies("general", thread_ts))
        return stopped and not streaming and runtime.tracker.active == 0

    await box.wait_for(done, 120.0)


async def measure() -> dict[str, Any]:
    text = answer_text()
    async with Sandbox(rate_limits=True, manifest=MANIFEST_PATH) as box, FakeAnthropic() as model:
        with tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp:
            settings = bot_settings(box, model, Path(tmp), stream_interval=DEFAULT_STREAM_INTERVAL)
            async with running_bot(settings, box) as (runtime, _):
                # A first answer pays one-time lookups (auth.test, the asker's profile, ...).
                model.script(Text("Warm-up answer."))
                posted = box.post_message("alice", "general", f"<@{box.bot_user_id}> hello")
                await answered(box, runtime, 0, posted["ts"])
                model.script(Text(text, delay=TOKEN_DELAY))
                start = len(box.calls())
                posted = box.post_message("alice", "general", f"<@{box.bot_user_id}> explain")
                asked = time.monotonic()
                await answered(box, runtime, start, posted["ts"])
                calls = box.calls()[start:]
                replies = box.replies("general", posted["ts"], from_bot=True)
                ratelimited = box.ratelimited
    return {
        "text": text,
        "calls": calls,
        "seconds": calls[-1]["t"] - asked,
        "replies": replies,
        "ratelimited": ratelimited,
    }


def result_from(data: dict[str, Any]) -> Result:
    calls, seconds, replies = data["calls"], data["seconds"], data["replies"]
    by_method = Counter(c["method"] for c in calls)
    drawing = sum(n for m, n in by_method.items() if m in DRAWING_POSTS)
    rate = len(calls) / seconds
    resends, longest = replay(calls, [r["ts"] for r in replies])
    refused = [c for c in calls if not c["ok"] and c["status"] != 429]
    over = [r for r in replies if r.get("truncated")]
    texts = [r["text"] for r in replies]
    match = same_text(data["text"], texts)
    fence_kept = CODE.strip() in "".join(texts)
    methods = ", ".join(f"{m} {n}" for m, n in sorted(by_method.items(), key=lambda x: -x[1]))
    rows = [
        Row("Web API calls for the answer", f"{len(calls)} in {seconds:.1f} s ({methods})"),
        Row(
            "calls a second",
            f"{rate:.2f} (drawing calls: {drawing / seconds:.2f})",
            f"≤ {CALLS_PER_SECOND_TARGET:g}",
            rate <= CALLS_PER_SECOND_TARGET,
        ),
        Row("identical-text resends", str(resends), "0", resends == 0),
        Row(
            "calls refused or messages over a limit",
            f"{len(refused)} refused, {len(over)} truncated",
            "0",
            not refused and not over,
        ),
        Row("Slack 429s", str(data["ratelimited"]), "0", data["ratelimited"] == 0),
        Row("longest wait between visible updates", f"{longest:.2f} s"),
        Row(
            "messages in the thread",
            f"{len(replies)} ({', '.join(str(len(t)) for t in texts)} characters)",
        ),
        Row(
            "text in Slack vs the model's text",
            f"{match}; the python code fence kept: {'yes' if fence_kept else 'no'}",
            "same words, fence and language kept",
            match != "differs" and fence_kept,
        ),
    ]
    method = (
        f"one mention; the fake model streams {TOKENS:,} word pieces (prose and a fenced Python "
        f"block, {len(data['text']):,} characters) one every {TOKEN_DELAY * 1000:.0f} ms; every "
        "Web API call from the mention to the end of the answer counted from the sandbox's log "
        "(after a warm-up answer to the same person, so one-time lookups are not counted); "
        "sandbox enforcing Slack's rate limits; bot stream interval "
        f"{DEFAULT_STREAM_INTERVAL:g} s (its default)."
    )
    return Result(f"Slack API calls for a streamed {TOKENS:,}-token answer", method, rows)


async def run() -> Result:
    started = time.monotonic()
    result = result_from(await measure())
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
