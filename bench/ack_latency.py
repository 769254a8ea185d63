"""Ack latency at a steady 100 requests a second: Teammate against a bare Bolt app.

Slack gives an app 3 seconds to acknowledge, and retries or shows the user an error after
that; under load the ack is the first thing to suffer when the event loop is busy with the
answers that earlier requests started. Each kind of request (app_mention event envelopes, then
`/ask` slash commands) is sent open-loop at 100 a second to a bare Bolt AsyncApp that only
acks, then to Teammate doing its real work after each ack (claiming the event, reading the
thread, calling the fake model, streaming the answer into the sandbox). The load generator,
the server and the world (sandbox and fake model) are separate processes; Teammate gets a
fresh process and database for each kind, so one kind's backlog cannot slow the other's.

    python -m bench.ack_latency                # the target's 100 requests a second
    python -m bench.ack_latency --rate 20      # where does it hold?
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from typing import Any

import aiohttp

from bench.load import FORM, JSON, Sample, open_loop
from bench.procs import Child
from bench.report import Result, Row, to_text
from bench.servers import server_main
from bench.stats import ms, percentile
from bench.world import world_main

RATE = 100.0
SECONDS = 15
WARMUP_SECONDS = 2
DRAIN_SECONDS = 8.0
CLIENT_TIMEOUT = 5.0  # Slack gives up after 3 s; waiting longer only tells "very late"
SLACK_ACK_LIMIT = 3.0
ANSWER = "Short answer: yes, that works."
P99_TARGET_MS = 50.0
RATIO_TARGET = 1.3
KINDS = {"mention": ("app_mention event", JSON), "ask": ("/ask command", FORM)}
TARGETS = {"bare": "bare Bolt app", "teammate": "Teammate"}


async def wait_until_idle(base_url: str, within: float) -> float | None:
    """Seconds until the server reports no answer in flight (None if not within ``within``)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while time.monotonic() - started < within:
            async with session.get(base_url + "/readyz") as response:
                state = json.loads(await response.text())
            if state.get("answering") == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.25)
    return None


class Run:
    """One benchmark run: the world, then each server and kind in turn."""

    def __init__(self, seconds: float, rate: float) -> None:
        self.seconds, self.rate = seconds, rate
        self.warmup = int(rate * WARMUP_SECONDS)
        self.count = self.warmup + int(rate * seconds)
        self.samples: dict[tuple[str, str], list[Sample]] = {}
        self.server: dict[tuple[str, str], dict[str, Any]] = {}
        self.answers: dict[str, int] = {}
        self.drain: dict[str, float | None] = {}

    async def load(self, url: str, kind: str) -> list[Sample]:
        samples = await open_loop(
            url + "/slack/events",
            self.bodies[kind],
            KINDS[kind][1],
            self.world_info["signing_secret"],
            self.rate,
            timeout=CLIENT_TIMEOUT,
        )
        return samples[self.warmup :]

    async def measure(self) -> None:
        world = Child(world_main, self.count, self.count, ANSWER, name="world")
        self.world_info = await world.start(within=180)
        self.bodies = {k: self.world_info.pop(k + "s") for k in ("mention", "ask")}
        try:
            await self.bare()
            for kind in KINDS:
                await self.teammate(kind, world)
        finally:
            await world.stop(within=10)

    async def bare(self) -> None:
        with tempfile.TemporaryDirectory(prefix="bench-bare-") as workdir:
            server = Child(server_main, "bare", self.world_info, workdir, name="bare")
            url = (await server.start(within=120))["url"]
            try:
                for kind in KINDS:
                    await server.ask("report")
                    self.samples["bare", kind] = await self.load(url, kind)
                    self.server["bare", kind] = await server.ask("report")
            finally:
                await server.stop(within=10)

    async def teammate(self, kind: str, world: Child) -> None:
        with tempfile.TemporaryDirectory(prefix="bench-teammate-") as workdir:
            server = Child(server_main, "teammate", self.world_info, workdir, name="teammate")
            url = (await server.start(within=120))["url"]
            try:
                before = (await world.ask("stats"))["answers_finished"]
                await server.ask("report")
                self.samples["teammate", kind] = await self.load(url, kind)
                self.drain[kind] = await wait_until_idle(url, DRAIN_SECONDS)
                self.server["teammate", kind] = await server.ask("report")
                self.answers[kind] = (await world.ask("stats"))["answers_finished"] - before
            finally:
                if self.drain.get(kind) is None:
                    await server.kill()  # an unfinished backlog is cut off, not awaited
                else:
                    await server.stop(within=10)

    def result(self) -> Result:
        rows: list[Row] = []
        for kind, (label, _) in KINDS.items():
            bare, ours = self.samples["bare", kind], self.samples["teammate", kind]
            bare_p99 = percentile([s.latency for s in bare], 99)
            our_p99 = percentile([s.latency for s in ours], 99)
            ratio = our_p99 / bare_p99
            ratio_text = (
                f"{ratio:.2f}×"
                if math.isfinite(ratio)
                else f"> {CLIENT_TIMEOUT / bare_p99:.0f}× (p99 had no answer)"
            )
            rows += [
                Row(f"{label}: bare Bolt app", _figures(bare)),
                Row(
                    f"{label}: Teammate",
                    _figures(ours),
                    f"p99 < {P99_TARGET_MS:.0f} ms",
                    our_p99 * 1000 < P99_TARGET_MS,
                ),
                Row(
                    f"{label}: Teammate p99 / bare p99",
                    ratio_text,
                    f"≤ {RATIO_TARGET}×",
                    ratio <= RATIO_TARGET,
                ),
            ]
        return Result(self.title(), self.method(), rows, self.notes())

    def title(self) -> str:
        return f"Ack latency at {self.rate:g} requests/s"

    def notes(self) -> list[str]:
        notes = []
        for kind, (label, _) in KINDS.items():
            ours = self.samples["teammate", kind]
            late = sum(1 for s in ours if s.latency > SLACK_ACK_LIMIT)
            silent = sum(1 for s in ours if s.status is None)
            refused = sum(1 for s in ours if s.status is not None and not 200 <= s.status < 300)
            if late or refused:
                notes.append(
                    f"Teammate, {label}: {late} of {len(ours)} acks later than Slack's "
                    f"{SLACK_ACK_LIMIT:g} s ({silent} with no answer in {CLIENT_TIMEOUT:g} s), "
                    f"{refused} answered with an error status"
                )
            server = self.server["teammate", kind]
            drain = self.drain.get(kind)
            drained = (
                f"the last {drain:.1f} s after the last request"
                if drain is not None
                else f"the rest cut off {DRAIN_SECONDS:g} s after the last request"
            )
            answers = self.answers.get(kind, 0)
            lag = server["loop_lag_ms"]
            cpu = server["cpu_seconds"]
            per_answer = (
                f" ({cpu / answers * 1000:.0f} ms per answer)" if answers == self.count else ""
            )
            notes.append(
                f"Teammate, {label}: {answers} of {self.count} answers finished ({drained}); "
                f"the process used {cpu:.1f} CPU s{per_answer}; its event loop ran late by "
                f"p99 {lag['p99']} ms, max {lag['max']} ms"
            )
            pool = server.get("pool")
            if pool:
                allows = f" of the {pool['limit']} its pool allows" if pool["limit"] else ""
                notes.append(
                    f"Teammate, {label}: at most {pool['max']} database connections in use"
                    f"{allows}, at that peak {pool['share_at_max']:.0%} of the time (answers' "
                    "work; the ack itself does not wait for the database)"
                )
        for (target, kind), server in self.server.items():
            levels = server["logs"]["levels"]
            if levels.get("WARNING") or levels.get("ERROR"):
                notes.append(
                    f"{TARGETS[target]}, {KINDS[kind][0]}: {levels.get('WARNING', 0)} warnings and "
                    f"{levels.get('ERROR', 0)} errors logged, the first: "
                    + "; ".join(server["logs"]["samples"][:1])
                )
        for (target, kind), values in self.samples.items():
            if target == "bare" and any(s.status != 200 for s in values):
                notes.append(f"bare Bolt app, {KINDS[kind][0]}: not every request was answered 200")
        lag = [s.lag for values in self.samples.values() for s in values]
        notes.append(
            f"load generator lateness (included in the latencies): p99 "
            f"{percentile(lag, 99) * 1000:.1f} ms, max {max(lag) * 1000:.1f} ms"
        )
        return notes

    def method(self) -> str:
        return (
            f"{self.rate:.0f} signed requests/s for {self.seconds:.0f} s per kind "
            f"({int(self.rate * self.seconds)} measured after {WARMUP_SECONDS} s of warm-up), "
            "open loop, latency from the scheduled send to the end of the response; load "
            "generator, server and world (sandbox + fake model, at lower CPU priority) in "
            "separate processes; sandbox rate limits off; the fake model answers at once with "
            "a short text. Bolt checks for a command listener's ack() every 10 ms, which is "
            "why a command's floor is about 10 ms above an event's."
        )


def _figures(samples: list[Sample]) -> str:
    latencies = [x.latency for x in samples]

    def shown(p: float) -> str:
        value = percentile(latencies, p) if p < 100 else max(latencies)
        return f"{ms(value)} ms" if math.isfinite(value) else f"no answer in {CLIENT_TIMEOUT:g} s"

    return f"p50 {shown(50)} · p99 {shown(99)} · max {shown(100)}"


async def run(seconds: float = SECONDS, rate: float = RATE, kind: type[Run] = Run) -> Result:
    started = time.monotonic()
    benchmark = kind(seconds, rate)
    await benchmark.measure()
    result = benchmark.result()
    result.seconds = time.monotonic() - started
    return result


def main(
    kind: type[Run] = Run, description: str = "Ack latency under a steady request rate."
) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rate", type=float, default=RATE, help="requests a second")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="measured seconds a kind")
    args = parser.parse_args()
    print(to_text(asyncio.run(run(args.seconds, args.rate, kind))))


if __name__ == "__main__":
    main()
