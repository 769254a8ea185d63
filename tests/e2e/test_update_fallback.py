"""Where Slack's streaming API is not available, answers are drawn with chat.update."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import Text
from tests.e2e.test_long_answer import long_answer

STREAM_METHODS = ["chat.startStream", "chat.appendStream", "chat.stopStream"]


@pytest.fixture
async def stack_without_streaming(stack):
    stack.sandbox.configure(disabled_methods=STREAM_METHODS)
    return stack


async def test_answer_grows_by_updates_in_slack_markup(stack_without_streaming) -> None:
    stack = stack_without_streaming
    text = "Use **bold** and a [link](https://example.com). " + "more words " * 60
    stack.model.script(Text(text.strip(), delay=0.01))
    posted = stack.mention("format this")
    [reply] = await stack.answer("general", posted["ts"])
    assert "*bold*" in reply["text"] and "**bold**" not in reply["text"]
    assert "<https://example.com|link>" in reply["text"]
    assert len(stack.sandbox.calls("chat.update")) >= 2  # it grew while the model wrote
    assert "tokens" in str(reply["blocks"])


async def test_long_answer_rolls_over_below_the_update_limit(stack_without_streaming) -> None:
    stack = stack_without_streaming
    answer = long_answer(9_000)
    stack.model.script(Text(answer, chunk_size=60, delay=0.001))
    posted = stack.mention("write a lot")
    await stack.answer("general", posted["ts"], count=3, within=40)
    await stack.sandbox.settle()
    texts = [r["text"] for r in stack.sandbox.replies("general", posted["ts"], from_bot=True)]
    assert all(len(t) <= 4_000 for t in texts)
    assert "\n".join(texts).split() == answer.split()  # every word, in order, nothing twice
    known = set(answer.split())
    assert all(set(text.split()) <= known for text in texts)  # no word cut in two
    drawn = stack.sandbox.calls("chat.postMessage") + stack.sandbox.calls("chat.update")
    assert drawn and all(call["ok"] for call in drawn)  # none refused as too long
