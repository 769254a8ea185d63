"""What durable answers cost a streamed answer: the same answers with
``TEAMMATE_DURABLE_ANSWERS`` off and on, in the same run.

With durable answers on, every answer is a DBOS workflow and every model request a recorded
step (:mod:`bot.core.durable.steps`): before the request goes out the step looks for a record
of itself, and once the response is in it is pickled and written down. This runs the
many-answers benchmark's 2,000-token case (:mod:`bench.concurrent_streams`: ten mentions at
once, the bot in its own process, Slack's tiers enforced, the model at 500 ms to its first
token and 50 tokens a second) twice, durable off then on (SQLite, DBOS in its own file), and
compares the bot's CPU-seconds per answer and how soon the first words show, the ratios of on
to off beside them.

    python -m bench.durable_answers
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.concurrent_streams import measure
from bench.first_text import FIRST_CHARS
from bench.report import OtherWork, Result, Row, to_text
from bench.stats import percentile

ANSWERS = 10
TOKENS = 2000


def _p(values: list[float], p: float) -> float:
    return percentile([v for v in values if v is not None], p)


def _figures(data: dict[str, Any]) -> dict[str, float]:
    answers = data["answers"]
    to_text = [a["token_to_text"] for a in answers]
    to_token = [a["mention_to_token"] for a in answers]
    return {
        "cpu": data["cpu_seconds"] / data["answers_at_once"],
        "to_text_p50": _p(to_text, 50),
        "to_text_p95": _p(to_text, 95),
        "to_token_p50": _p(to_token, 50),
        "to_token_p95": _p(to_token, 95),
        "complete": sum(a["identical"] and not a["mid_stream"] for a in answers),
    }


def _by_thread(off: dict[str, Any], on: dict[str, Any]) -> list[Row]:
    """The CPU per answer of each group of the bot's threads, off and on."""
    n = off["answers_at_once"]
    plain, durable = off["threads"], on["threads"]
    groups = sorted(set(plain) | set(durable), key=lambda g: -durable.get(g, plain.get(g, 0)))
    return [
        Row(
            f"  of which {group}",
            f"off {plain.get(group, 0) / n:.3f} s · on {durable.get(group, 0) / n:.3f} s",
        )
        for group in groups
    ]


def _row(what: str, off: float, on: float, unit: str, digits: int) -> Row:
    ratio = on / off if off else float("nan")
    shown = f"off {off:.{digits}f} {unit} · on {on:.{digits}f} {unit}"
    return Row(what, f"{shown} · on/off {ratio:.2f}")


async def run() -> Result:
    started = time.monotonic()
    [off] = await measure(((ANSWERS, TOKENS),), bot_options={"durable_answers": False})
    [on] = await measure(((ANSWERS, TOKENS),), bot_options={"durable_answers": True})
    plain, durable = _figures(off), _figures(on)
    rows = [
        _row("bot CPU-seconds per answer", plain["cpu"], durable["cpu"], "s", 3),
        *_by_thread(off, on),
        _row(
            f"model's first token → first {FIRST_CHARS} characters, p50",
            plain["to_text_p50"],
            durable["to_text_p50"],
            "s",
            3,
        ),
        _row(
            f"model's first token → first {FIRST_CHARS} characters, p95",
            plain["to_text_p95"],
            durable["to_text_p95"],
            "s",
            3,
        ),
        _row(
            "mention → model's first token, p50",
            plain["to_token_p50"],
            durable["to_token_p50"],
            "s",
            3,
        ),
        _row(
            "mention → model's first token, p95",
            plain["to_token_p95"],
            durable["to_token_p95"],
            "s",
            3,
        ),
        Row(
            "answers complete, identical text",
            f"off {plain['complete']} of {ANSWERS} · on {durable['complete']} of {ANSWERS}",
        ),
    ]
    method = (
        f"{ANSWERS} mentions at once, {TOKENS:,}-token answers, as in the many-answers "
        "benchmark (the bot in its own process, its CPU from time.process_time there, start-up "
        "and one warm-up answer excluded; split by thread from /proc/self/task), run with "
        "TEAMMATE_DURABLE_ANSWERS off and then on "
        "(SQLite) one after the other in the same run"
    )
    result = Result("What durable answers cost a streamed answer", method, rows)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    other = OtherWork()
    print(to_text(asyncio.run(run())))
    print(f"While it ran, {other.summary()}.")  # the figures are only as good as the cores


if __name__ == "__main__":
    main()
