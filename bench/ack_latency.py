"""Ack latency at a steady 100 requests a second: Teammate against a bare Bolt app.

Slack gives an app 3 seconds to acknowledge, and retries or shows the user an error after
that; under load the ack is the first thing to suffer when the event loop is busy with the
answers the earlier requests started. Each kind of request (app_mention event envelopes, then
`/ask` slash commands) is sent open-loop at 100 a second to a bare Bolt AsyncApp that only
acks, then to Teammate doing its real work after each ack (claiming the event, reading the
thread, calling the fake model, streaming the answer into the sandbox). The load generator,
the server and the world (sandbox and fake model) are three processes.

    python -m bench.ack_latency
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bench.load import FORM, JSON, Sample, open_loop
from bench.procs import Child
from bench.report import Result, Row, to_text
from bench.servers import server_main
from bench.stats import percentile, summary_ms
from bench.world import world_main

RATE = 100.0
SECONDS = 15
WARMUP_SECONDS = 2
ANSWER = "Short answer: yes, that works."
P99_TARGET_MS = 50.0
RATIO_TARGET = 1.3
KINDS = {"mention": ("app_mention event", JSON), "ask": ("/ask command", FORM)}
TARGETS = {"bare": "bare Bolt app", "teammate": "Teammate"}


async def wait_until_idle(base_url: str, within: float = 90.0) -> float | None:
    """Seconds until the server reports no answer in flight (None if it never did)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < within:
            async with session.get(base_url + "/readyz") as response:
                state = json.loads(await response.text())
            if state.get("answering") == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.25)
    return None


def _figures(samples: list[Sample]) -> str:
    s = summary_ms([x.latency for x in samples])
    return f"p50 {s['p50']} ms · p99 {s['p99']} ms · max {s['max']} ms"


async def measure(seconds: float = SECONDS, rate: float = RATE) -> dict[str, Any]:
    """Runs every target and kind; returns the samples and what the processes reported."""
    warmup = int(rate * WARMUP_SECONDS)
    count = warmup + int(rate * seconds)
    world = Child(world_main, count, count, ANSWER, name="world")
    info = await world.start(within=180)
    bodies = {"mention": info.pop("mentions"), "ask": info.pop("asks")}
    out: dict[str, Any] = {"samples": {}, "logs": {}, "drain": {}, "world": {}}
    try:
        for target in TARGETS:
            server = Child(server_main, target, info, name=target)
            url = (await server.start(within=120))["url"]
            try:
                for kind, (_, content_type) in KINDS.items():
                    samples = await open_loop(
                        url + "/slack/events",
                        bodies[kind],
                        content_type,
                        info["signing_secret"],
                        rate,
                    )
                    out["samples"][target, kind] = samples[warmup:]
                    if target == "teammate":
                        out["drain"][kind] = await wait_until_idle(url)
                        out["world"][kind] = await world.ask("stats")
            finally:
                out["logs"][target] = await server.stop(within=90)
    finally:
        await world.stop()
    out["count"] = count
    return out


def result_from(data: dict[str, Any], seconds: float, rate: float) -> Result:
    samples = data["samples"]
    rows: list[Row] = []
    notes: list[str] = []
    for kind, (label, _) in KINDS.items():
        bare, ours = samples["bare", kind], samples["teammate", kind]
        bare_p99 = percentile([s.latency for s in bare], 99)
        our_p99 = percentile([s.latency for s in ours], 99)
        ratio = our_p99 / bare_p99
        rows.append(Row(f"{label}: bare Bolt app", _figures(bare)))
        rows.append(
            Row(
                f"{label}: Teammate",
                _figures(ours),
                f"p99 < {P99_TARGET_MS:.0f} ms",
                our_p99 * 1000 < P99_TARGET_MS,
            )
        )
        rows.append(
            Row(
                f"{label}: Teammate p99 / bare p99",
                f"{ratio:.2f}×",
                f"≤ {RATIO_TARGET}×",
                ratio <= RATIO_TARGET,
            )
        )
    for (target, kind), values in samples.items():
        failed = sum(1 for s in values if s.status is None or not 200 <= s.status < 300)
        if failed:
            notes.append(f"{TARGETS[target]}, {KINDS[kind][0]}: {failed} requests not answered 2xx")
    for kind, (label, _) in KINDS.items():
        world = data["world"].get(kind, {})
        drain = data["drain"].get(kind)
        drained = f"{drain:.1f} s" if drain is not None else "not within 90 s"
        notes.append(
            f"Teammate, {label} phase: {world.get('answers_finished', 0)} answers finished in "
            f"total so far, {world.get('model_requests', 0)} model calls; last answer done "
            f"{drained} after the last request"
        )
    lag = [s.lag for values in samples.values() for s in values]
    notes.append(
        f"load generator lateness: p99 {percentile(lag, 99) * 1000:.1f} ms, "
        f"max {max(lag) * 1000:.1f} ms"
    )
    for target, levels in data["logs"].items():
        levels = levels or {}
        if levels.get("WARNING") or levels.get("ERROR"):
            notes.append(
                f"{TARGETS[target]} logged {levels.get('WARNING', 0)} warnings and "
                f"{levels.get('ERROR', 0)} errors"
            )
    method = (
        f"{int(rate)} signed requests/s for {seconds:.0f} s per kind ({int(rate * seconds)} "
        f"measured after {WARMUP_SECONDS} s of warm-up), open loop, latency from the scheduled "
        "send to the end of the response; load generator, server and world (sandbox + fake "
        "model) in separate processes; sandbox rate limits off; the fake model answers at once "
        "with a short text."
    )
    return Result("Ack latency at 100 requests/s", method, rows, notes)


async def run(seconds: float = SECONDS, rate: float = RATE) -> Result:
    started = time.monotonic()
    result = result_from(await measure(seconds, rate), seconds, rate)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    print(to_text(asyncio.run(run())))


if __name__ == "__main__":
    main()
