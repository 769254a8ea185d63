"""`python -m bench`: run every benchmark, print each table, and write docs/benchmarks.md.

The page is generated from this run's figures only, so what it says is what was measured.
"""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path

from bench import (
    ack_latency,
    ack_workers,
    compaction,
    concurrent_streams,
    durable_answers,
    durable_resume,
    durable_step,
    embedded_model,
    embedded_quality,
    first_text,
    knowledge_search,
    memory_reads,
    stream_calls,
    tool_step,
    worker_cpu,
)
from bench.report import OtherWork, Result, machine, to_markdown, to_text, verdict

PAGE = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

INTRO = """\
# Benchmarks

Figures for the speed targets in the design, measured by the benchmarks in `bench/`. Each
drives the whole product over real HTTP: the bot, the local Slack sandbox (standing in for
Slack, rate tiers and limits included) and fake model servers speaking the Anthropic wire
protocol, or the real embedded model. Nothing reaches the internet.

Run them from the repository root after `make local` (which installs everything, the
embedded model included):

```sh
.venv/bin/python -m bench                    # all of them (a few minutes); rewrites this page
.venv/bin/python -m bench.ack_latency        # or one at a time, printing its table
.venv/bin/python -m bench.ack_workers        # the same with the answers on a worker (PostgreSQL)
.venv/bin/python -m bench.first_text
.venv/bin/python -m bench.stream_calls
.venv/bin/python -m bench.concurrent_streams
.venv/bin/python -m bench.tool_step          # the time a tool step adds beyond the tool
.venv/bin/python -m bench.durable_step       # what recording a model request in DBOS costs
.venv/bin/python -m bench.durable_answers    # durable answers off against on, same run
.venv/bin/python -m bench.durable_resume     # a restart taking up a killed answer
.venv/bin/python -m bench.worker_cpu         # a worker's CPU at rest and per answer
.venv/bin/python -m bench.embedded_model   # needs the embedded model (`make local`)
.venv/bin/python -m bench.embedded_quality # the embedded model's answers (30 + 30 held out)
.venv/bin/python -m bench.knowledge_search # knowledge search over 10,000 sections
.venv/bin/python -m bench.memory_reads     # what reading a channel's memory costs an answer
.venv/bin/python -m bench.compaction       # keeping a long run's history inside the window
```

This page was written by `python -m bench` on {date}. Machine: {machine}. While it ran,
{other}.
"""


def render(results: list[Result], other: str) -> str:
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    lines = [INTRO.format(date=date, machine=machine(), other=other), "## Summary", ""]
    lines += ["| benchmark | targets |", "|---|---|"]
    for result in results:
        missed = [row.what for row in result.rows if row.met is False]
        status = verdict(result.met) + (f": {'; '.join(missed)}" if missed else "")
        lines.append(f"| {result.title} | {status} |")
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(to_markdown(r) for r in results)


def main() -> None:
    results = []
    other = OtherWork()
    modules = (
        ack_latency,
        ack_workers,
        first_text,
        stream_calls,
        concurrent_streams,
        tool_step,
        durable_step,
        durable_answers,
        durable_resume,
        worker_cpu,
        embedded_model,
        embedded_quality,
        knowledge_search,
        memory_reads,
        compaction,
    )
    for module in modules:
        result = asyncio.run(module.run())
        print(to_text(result), end="\n\n", flush=True)
        results.append(result)
    PAGE.parent.mkdir(exist_ok=True)
    summary = other.summary()
    print(summary)
    PAGE.write_text(render(results, summary), encoding="utf-8")
    print(f"wrote {PAGE.name}")


if __name__ == "__main__":
    main()
