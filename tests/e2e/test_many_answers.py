"""Ten people asking at once, against a Slack that enforces its rate tiers per workspace."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.slack.render.limiter import SlackLimiter, install
from bot.testkit.fakes import Dynamic, Text, last_user_text

PEOPLE = 10
SCALE = 0.1  # Slack's minute shrunk to 6 s, for the sandbox and the bot alike


def answer_for(n: int) -> str:
    words = " ".join(f"a{n}w{k}" for k in range(150))
    return f"**Answer {n}.** {words}.\n\n```python\nprint({n})\n```\nThat is all."


def by_question(body: dict) -> Text:
    n = int(re.search(r"question (\d+)", last_user_text(body)).group(1))  # type: ignore[union-attr]
    return Text(answer_for(n), delay=0.01)


async def ask_everyone(stack, within: float) -> None:
    stack.model.default = Dynamic(by_question)
    people = ["alice", "bob", "carol"]
    asked = [stack.mention(f"question {n}", user=people[n % 3]) for n in range(PEOPLE)]
    replies = await asyncio.gather(
        *(stack.answer("general", posted["ts"], within=within) for posted in asked)
    )
    for n, [reply] in enumerate(replies):
        assert reply["text"] == answer_for(n)  # exactly the model's text, nothing lost or twice
        assert "tokens" in str(reply["blocks"])  # each finished with its footer
    await stack.sandbox.settle()
    for posted in asked:  # no message left mid-stream
        assert not any(r["streaming"] for r in stack.sandbox.replies("general", posted["ts"]))


async def test_ten_answers_at_once_stay_within_the_tiers(stack) -> None:
    stack.sandbox.configure(rate_scale=SCALE)
    install(SlackLimiter(scale=SCALE))
    await ask_everyone(stack, within=60)
    assert stack.sandbox.ratelimited == 0
    appends = len(stack.sandbox.calls("chat.appendStream"))
    assert appends < PEOPLE * 10  # many answers at once: fewer, larger appends each


@pytest.fixture
def lying_slack(stack):
    """A Slack whose Retry-After says 1 s while its window stays full far longer."""
    stack.sandbox.configure(
        rate_scale=0.05,
        tier_overrides={"chat.appendStream": 3, "chat.startStream": 5, "conversations.replies": 4},
    )
    limiter = stack.sandbox.limiter
    honest = limiter.check

    def check(method: str, channel: str | None = None) -> int | None:
        return None if honest(method, channel) is None else 1

    limiter.check = check
    return stack


async def test_answers_complete_when_retry_after_keeps_coming(lying_slack) -> None:
    stack = lying_slack
    await ask_everyone(stack, within=90)
    assert stack.sandbox.ratelimited > 0  # Slack did refuse, again and again
    assert not any("went wrong" in str(c["args"]) for c in stack.sandbox.calls("chat.postMessage"))


async def test_answers_at_once_share_the_lookups_they_need(stack) -> None:
    asked = [stack.mention(f"question {n}", user=("alice", "bob")[n % 2]) for n in range(6)]
    stack.model.default = Dynamic(by_question)
    await asyncio.gather(*(stack.answer("general", posted["ts"]) for posted in asked))
    assert len(stack.sandbox.calls("users.info")) == 2  # one per person, not per question
    assert len(stack.sandbox.calls("conversations.info")) == 1


async def test_a_refused_status_never_holds_up_the_first_words(stack) -> None:
    limiter = stack.sandbox.limiter
    honest = limiter.check

    def check(method: str, channel: str | None = None) -> int | None:
        if method == "assistant.threads.setStatus":
            return 60  # the status tier used up for a minute
        return honest(method, channel)

    limiter.check = check
    stack.model.default = Dynamic(by_question)
    posted = stack.mention("question 7")
    [reply] = await stack.answer("general", posted["ts"], within=15)  # far less than a minute
    assert reply["text"] == answer_for(7)
    refused = [c for c in stack.sandbox.calls("assistant.threads.setStatus") if not c["ok"]]
    assert refused  # the status was asked for, and Slack said no
