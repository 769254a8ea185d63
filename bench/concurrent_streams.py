"""Many answers streaming at once into one workspace, Slack's rate tiers enforced.

Ten people asking at the same moment is an ordinary morning in a large workspace. The world
(the sandbox enforcing Slack's per-method tiers per workspace, and a fake model at 500 ms to
first token and 50 tokens a second) runs in one process, the bot in another, so the bot's CPU
time is its own. N mentions are posted at once (across two channels); the sandbox delivers
them to the bot as Slack does. Per answer: time from the mention to its first 30 characters
in the thread, from the model's first token to those characters, and from the mention to the
finished message (stream stopped, footer drawn); every answer checked complete and identical
to the model's text with no message left mid-stream; the sandbox's 429s counted (target 0).

Slack's Tier 4 lets about 100 new streams (chat.startStream) start in a minute per workspace,
so at 200 at once half the answers cannot show their first words within a second however the
bot paces them. Beside the raw figure from the model's first token, the benchmark therefore
reports the delay beyond the moment Slack's tier allowed that answer's start: the sandbox's
own sliding window replayed over its call log (the k-th start of the run could go no sooner
than a window after the (k - tier)-th), so the figure measures the bot, not the tier.

The sandbox's ``rate_scale`` shrinks Slack's minute to ``SCALE`` of itself (its windows 6 s
instead of 60: chat.appendStream 100 per 6 s), and the bot's limiter is told the same scale,
so the runs stay short while keeping Slack's proportions between methods and answers. The bot
lets all N answer at once (TEAMMATE_MAX_ANSWERS = N). Answers are 2,000 tokens for 10 at once
(that run also gives the CPU-seconds per answer) and 200 tokens for 50 and 200 at once: on a
2-core machine 200 fake 2,000-token streams at 50 tokens a second would measure the fake.

    python -m bench.concurrent_streams
    python -m bench.concurrent_streams --answers 10 --tokens 2000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.first_text import FIRST_CHARS, first_chars_at
from bench.procs import Child, answer_until_stopped
from bench.report import OtherWork, Result, Row, to_text
from bench.servers import teammate_settings
from bench.stats import percentile
from bench.stream_calls import answer_text
from bench.thread_cpu import ThreadCpu, split_text
from bench.timed_model import TimedAnthropic
from bot import logs
from bot.app import Runtime
from bot.resources import MANIFEST_PATH
from bot.sandbox import Sandbox
from bot.server import build_web_app
from bot.slack.render.limiter import TIERS, SlackLimiter, install
from bot.testkit.fakes import Dynamic, Text, last_user_text

SCALE = 0.1
FIRST_TOKEN_DELAY = 0.5
TOKEN_DELAY = 0.02  # 50 tokens a second
RUNS = ((10, 2000), (50, 200), (200, 200))
CPU_TARGET = 0.5
STARTS_PER_MINUTE = 100  # Slack's Tier 4, chat.startStream's tier
FIRST_TEXT_TARGET = 1.0  # "the first words of each answer still show within about a second"
PEOPLE = ("alice", "bob", "carol")
CHANNELS = ("general", "random")
_NUMBER = re.compile(r"question (\d+)")


def answer_for(n: int, tokens: int) -> str:
    return f"Answer {n}. " + answer_text(tokens - 2)


# -- the world: sandbox and fake model -----------------------------------------------------------


def world_main(conn: Connection) -> None:
    asyncio.run(_world(conn))


async def _world(conn: Connection) -> None:
    tokens = {"n": 2000}

    def reply(body: dict[str, Any]) -> Text:
        found = _NUMBER.search(last_user_text(body))
        n = int(found.group(1)) if found else -1
        return Text(answer_for(n, tokens["n"]), delay=TOKEN_DELAY)

    async with (
        Sandbox(rate_limits=True, rate_scale=SCALE, manifest=MANIFEST_PATH) as box,
        TimedAnthropic(first_token_delay=FIRST_TOKEN_DELAY, default=Dynamic(reply)) as model,
    ):
        conn.send(
            {
                "api_url": box.api_url,
                "bot_token": box.bot_token,
                "signing_secret": box.signing_secret,
                "model_url": model.base_url,
            }
        )

        async def handle(message: dict[str, Any]) -> dict[str, Any]:
            box.request_url = message["bot_url"]
            tokens["n"] = message["tokens"]
            if message.get("warm_up"):
                await warm_up(box)
                return {}
            return await one_run(box, model, message["answers"], message["tokens"])

        await answer_until_stopped(conn, handle)
        conn.send(None)


async def warm_up(box: Sandbox) -> None:
    """One short answer first, as a bot that has been running has given: Bolt checks the
    token (auth.test) on the first requests it sees, all of them at once when they come so."""
    warm = box.post_message("alice", "general", f"<@{box.bot_user_id}> question -1: hello")
    await box.wait_for_replies("general", warm["ts"], 1, 60.0, done=True, from_bot=True)


async def one_run(box: Sandbox, model: TimedAnthropic, answers: int, tokens: int) -> dict:
    await asyncio.sleep(60 * SCALE)  # a full window since the last calls: they no longer count
    box.calls_log.clear()
    model.first_text.clear()
    asked = []
    for n in range(answers):
        channel = CHANNELS[n % len(CHANNELS)]
        text = f"<@{box.bot_user_id}> question {n}: how do deploys work?"
        posted = box.post_message(PEOPLE[n % len(PEOPLE)], channel, text)
        asked.append((n, channel, posted["ts"], time.monotonic()))

    def finished() -> bool:
        for _, channel, ts, _ in asked:
            replies = box.replies(channel, ts, from_bot=True)
            if not replies or any(r["streaming"] for r in replies):
                return False
            if not any(b.get("block_id") == "feedback" for b in replies[-1].get("blocks") or []):
                return False
        return True

    started = time.monotonic()
    await box.wait_for(finished, 120 + answers * tokens * TOKEN_DELAY)
    await box.settle()
    calls = box.calls()
    allowed = tier_allowed_starts(calls, box.limiter.per_minute("chat.startStream"), 60 * SCALE)
    rows = []
    for n, channel, ts, at in asked:
        replies = box.replies(channel, ts, from_bot=True)
        expected = answer_for(n, tokens)
        visible = first_chars_at(calls, ts, replies[0]["ts"], min(FIRST_CHARS, len(expected)))
        token = model.first_text_at(f"question {n}:")
        start = next(
            (float(c["t"]) for c in calls if _starts(c) and c["args"].get("thread_ts") == ts),
            None,
        )
        last_ts = replies[-1]["ts"]
        stops = [c["t"] for c in calls if c["method"] == "chat.stopStream" and c["ok"]]
        done = max((float(c["t"]) for c in calls if _stops(c, last_ts)), default=None)
        done = done if done is not None else max(stops, default=time.monotonic())
        rows.append(
            {
                "first_text": None if visible is None else visible - at,
                "token_to_text": None if visible is None or token is None else visible - token,
                "mention_to_token": None if token is None else token - at,
                "beyond_tier": _beyond_tier(visible, token, start, allowed),
                "complete": done - at,
                "identical": "".join(r["text"] for r in replies) == expected,
                "mid_stream": any(r["streaming"] for r in box.replies(channel, ts)),
            }
        )
    return {
        "answers": rows,
        "ratelimited": box.ratelimited,
        "calls": dict(Counter(c["method"] for c in calls if c["ok"])),
        "refused": dict(Counter(f"{c['method']} {c['error']}" for c in calls if not c["ok"])),
        "seconds": time.monotonic() - started,
    }


def tier_allowed_starts(
    calls: list[dict[str, Any]], per_window: int, window: float
) -> dict[float, float]:
    """For each start of a stream (by its time), the earliest moment Slack's sliding window
    would have let it go, given the starts before it: a window after the start ``per_window``
    places earlier (no bound for the first ``per_window``)."""
    starts = sorted(float(c["t"]) for c in calls if _starts(c))
    return {
        at: starts[k - per_window] + window if k >= per_window else float("-inf")
        for k, at in enumerate(starts)
    }


def _beyond_tier(
    visible: float | None, token: float | None, start: float | None, allowed: dict[float, float]
) -> float | None:
    """First words' delay after the later of the first token and the tier's allowed start."""
    if visible is None or token is None or start is None:
        return None
    return visible - max(token, allowed.get(start, float("-inf")))


def _starts(call: dict[str, Any]) -> bool:
    return call["method"] == "chat.startStream" and call["ok"]


def _stops(call: dict[str, Any], ts: str) -> bool:
    return call["method"] == "chat.stopStream" and call["ok"] and call["args"].get("ts") == ts


# -- the bot -------------------------------------------------------------------------------------


def bot_main(
    conn: Connection,
    world: dict[str, Any],
    workdir: str,
    answers: int,
    profile: str | None,
    options: dict[str, Any],
) -> None:
    asyncio.run(_bot(conn, world, Path(workdir), answers, profile, options))


async def _bot(
    conn: Connection,
    world: dict[str, Any],
    workdir: Path,
    answers: int,
    profile: str | None,
    options: dict[str, Any],
) -> None:
    with (workdir / "bot.log").open("w", encoding="utf-8") as log_file:
        sys.stderr = log_file
        logs.configure("INFO")
        try:
            install(SlackLimiter(scale=SCALE))
            settings = teammate_settings(world, workdir, max_answers=answers, **options)
            runtime = await Runtime.start(settings)
            runner = web.AppRunner(build_web_app(runtime), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            conn.send({"url": f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"})
            cpu = [time.process_time()]
            threads = ThreadCpu()
            profiler = _profiler() if profile else None

            async def report(_: Any) -> dict[str, Any]:
                for _ in range(600):  # the answers' bookkeeping follows their last message
                    if not runtime.tracker.active:
                        break
                    await asyncio.sleep(0.05)
                now = time.process_time()
                used, cpu[0] = now - cpu[0], now
                split = threads.split()
                threads.start()
                if profiler is not None and profile:
                    if profiler.is_running:
                        session = profiler.stop()
                        await asyncio.to_thread(session.save, profile)
                    else:
                        profiler.start()
                return {"cpu_seconds": used, "threads": split}

            try:
                await answer_until_stopped(conn, report)
            finally:
                await runner.cleanup()
                await runtime.close()
        finally:
            logging.getLogger().handlers.clear()
            sys.stderr = sys.__stderr__
    conn.send(None)


def _profiler() -> Any:
    """pyinstrument's sampling profiler (``pip install pyinstrument``; not a dependency)."""
    from pyinstrument import Profiler

    return Profiler(interval=0.001, async_mode="disabled")


_SITE = re.compile(r"site-packages/([^/]+?)(?:\.py)?/")
_OURS = re.compile(r"/(bot|handlers)/(\w+)")
_STDLIB = re.compile(r"python3\.\d+/(\w+)")


def _package(path: str | None) -> str:
    if not path or path.startswith("<"):
        return "built-in"
    for pattern, form in ((_SITE, "{0}"), (_OURS, "{0}/{1}"), (_STDLIB, "stdlib {0}")):
        found = pattern.search(path)
        if found:
            return form.format(*found.groups())
    return "other"


def profile_table(session_path: str, rows: int = 16) -> str:
    """Where the bot's busy (not idle) samples fell, by package, as a Markdown table."""
    from pyinstrument.session import Session

    totals: Counter[str] = Counter()
    stack = [Session.load(session_path).root_frame()]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame is None or frame.is_synthetic or not frame.total_self_time:
            continue
        name = _package(frame.file_path)
        if frame.function == "epoll.poll":
            name = "idle (waiting in epoll)"
        elif name == "built-in":
            name = f"built-in: {frame.function}"
        totals[name] += frame.total_self_time
    idle = totals.pop("idle (waiting in epoll)", 0.0)
    busy = sum(totals.values())
    lines = [f"Busy {busy:.1f} s of {busy + idle:.1f} s sampled.", ""]
    lines += ["| where | share of busy time |", "|---|---|"]
    lines += [f"| {k} | {100 * v / busy:.1f} % |" for k, v in totals.most_common(rows)]
    return "\n".join(lines)


# -- the runs ------------------------------------------------------------------------------------


async def measure(
    runs: tuple[tuple[int, int], ...] = RUNS,
    profile: str | None = None,
    bot_options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One result per run; ``bot_options`` are settings of the bot's (``durable_answers``)."""
    world = Child(world_main, name="world")
    info = await world.start(within=60)
    results = []
    try:
        for answers, tokens in runs:
            with tempfile.TemporaryDirectory(prefix="bench-concurrent-") as workdir:
                options = bot_options or {}
                bot = Child(bot_main, info, workdir, answers, profile, options, name="bot")
                ready = await bot.start(within=60)
                try:
                    await world.ask({"bot_url": ready["url"], "tokens": 5, "warm_up": True})
                    await bot.ask("cpu")  # start counting after start-up and the warm-up
                    run = {"bot_url": ready["url"], "answers": answers, "tokens": tokens}
                    data = await world.ask(run, within=600)
                    cpu = await bot.ask("cpu")
                    data["cpu_seconds"], data["threads"] = cpu["cpu_seconds"], cpu["threads"]
                finally:
                    await bot.stop()
            data.update(answers_at_once=answers, tokens=tokens)
            results.append(data)
    finally:
        await world.stop()
    return results


def _counts(total: int, refused: dict[str, int]) -> str:
    if not refused:
        return str(total)
    return f"{total} ({', '.join(f'{k} {v}' for k, v in sorted(refused.items()))})"


def _spread(values: list[float]) -> str:
    if not values:
        return "none measured"
    p50, p95 = percentile(values, 50), percentile(values, 95)
    return f"p50 {p50:.2f} s · p95 {p95:.2f} s · max {max(values):.2f} s"


def result_from(results: list[dict[str, Any]]) -> Result:
    rows = []
    for data in results:
        n, tokens, answers = data["answers_at_once"], data["tokens"], data["answers"]
        label = f"{n} at once ({tokens:,} tokens each)"
        complete = sum(a["identical"] and not a["mid_stream"] for a in answers)
        firsts = [a["first_text"] for a in answers if a["first_text"] is not None]
        to_text = [a["token_to_text"] for a in answers if a["token_to_text"] is not None]
        beyond = [a["beyond_tier"] for a in answers if a.get("beyond_tier") is not None]
        to_token = [a["mention_to_token"] for a in answers if a.get("mention_to_token")]
        tier_binds = n > TIERS["chat.startStream"].budget
        rows += [
            Row(
                f"{label}: complete, identical text",
                f"{complete} of {n}",
                f"{n} of {n}",
                complete == n,
            ),
            Row(
                f"{label}: Slack 429s",
                _counts(data["ratelimited"], data["refused"]),
                "0",
                data["ratelimited"] == 0,
            ),
            Row(
                f"{label}: model's first token → first {FIRST_CHARS} characters",
                _spread(to_text),
                *(
                    ()
                    if tier_binds
                    else (
                        f"p95 ≤ {FIRST_TEXT_TARGET:g} s",
                        bool(to_text) and percentile(to_text, 95) <= FIRST_TEXT_TARGET,
                    )
                ),
            ),
            Row(
                f"{label}: the same, beyond the moment Slack's tier allowed the answer's start",
                _spread(beyond),
                f"p95 ≤ {FIRST_TEXT_TARGET:g} s",
                bool(beyond) and percentile(beyond, 95) <= FIRST_TEXT_TARGET,
            ),
            Row(f"{label}: mention → model's first token", _spread(to_token)),
            Row(f"{label}: mention → first {FIRST_CHARS} characters", _spread(firsts)),
            Row(f"{label}: mention → answer complete", _spread([a["complete"] for a in answers])),
            Row(
                f"{label}: drawing calls",
                ", ".join(
                    f"{m} {c}" for m, c in sorted(data["calls"].items()) if m.startswith("chat.")
                ),
            ),
        ]
        if tokens == 2000:
            per_answer = data["cpu_seconds"] / n
            rows.append(
                Row(
                    f"{label}: bot CPU-seconds per answer",
                    f"{per_answer:.2f} ({data['cpu_seconds']:.1f} s for {n})",
                    f"≤ {CPU_TARGET:g}",
                    per_answer <= CPU_TARGET,
                )
            )
            rows.append(
                Row(
                    f"{label}: bot CPU-seconds per answer, by thread",
                    split_text(data["threads"], n),
                )
            )
        else:
            rows.append(
                Row(f"{label}: bot CPU-seconds per answer", f"{data['cpu_seconds'] / n:.3f}")
            )
    method = (
        "N mentions posted at once into one workspace (two channels); the sandbox enforces "
        f"Slack's per-method tiers with its minute scaled to {SCALE:g} (6 s windows; the bot's "
        "limiter told the same scale); fake model at "
        f"{FIRST_TOKEN_DELAY * 1000:.0f} ms to first token, then 50 tokens a second; the bot in "
        "its own process (its CPU time from time.process_time in that process, start-up and "
        "one warm-up answer excluded; split by thread from /proc/self/task), allowed N "
        "answers at once; times on the world's "
        "monotonic clock, the text's arrival from the sandbox's call log."
    )
    return Result("Many answers at once within Slack's rate tiers", method, rows)


async def run(runs: tuple[tuple[int, int], ...] = RUNS, profile: str | None = None) -> Result:
    started = time.monotonic()
    result = result_from(await measure(runs, profile))
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, help="one run with this many answers at once")
    parser.add_argument("--tokens", type=int, default=2000, help="tokens per answer (one run)")
    parser.add_argument(
        "--profile", help="save a pyinstrument session of the bot here (see docs/profile.md)"
    )
    args = parser.parse_args()
    runs = ((args.answers, args.tokens),) if args.answers else RUNS
    other = OtherWork()
    print(to_text(asyncio.run(run(runs, args.profile))))
    print(f"While it ran, {other.summary()}.")  # the figures are only as good as the cores
    if args.profile:
        print(profile_table(args.profile))


if __name__ == "__main__":
    main()
