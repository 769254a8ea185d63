"""What a person sees in the thread when the model misbehaves."""

from __future__ import annotations

import re

from bot.testkit.fakes import Status, StreamError, Text

REFERENCE = re.compile(r"\(ref `[0-9a-z]{6,12}`\)")


async def test_rate_limit_then_overload_then_success_gives_one_answer(stack) -> None:
    stack.model.script(
        Status(429, retry_after=1), Status(529, error_type="overloaded_error"), Text("Done it.")
    )
    posted = stack.mention("try hard")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].strip() == "Done it."
    assert [r.json["model"] for r in stack.model.requests] == ["claude-haiku-4-5"] * 3
    times = [r.received_at for r in stack.model.requests]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.9  # the retry-after of 1 s was honoured


async def test_rejected_request_ends_with_a_short_note_and_reference(stack) -> None:
    stack.model.script(Status(400, error_type="invalid_request_error", message="secret detail"))
    posted = stack.mention("bad request please")
    [reply] = await stack.answer("general", posted["ts"])
    assert REFERENCE.search(reply["text"])
    assert "rejected the request" in reply["text"]
    for leak in ("secret detail", "Traceback", "test-key", "xoxb-"):
        assert leak not in reply["text"]
    assert len(stack.model.requests) == 1  # a 400 is not retried


async def test_error_mid_stream_is_never_a_silently_cut_answer(stack) -> None:
    stack.model.script(StreamError(after_pieces=5, text="one two three four five six seven"))
    posted = stack.mention("stream then fail")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].startswith("one two three four five")
    assert "cut off" in reply["text"] and REFERENCE.search(reply["text"])
    assert reply["text"].count("one two") == 1  # the partial text was not shown twice
