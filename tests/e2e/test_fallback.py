"""An overloaded model hands over to the configured fallback, and the footer says so."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import Status, Text


@pytest.fixture
def bot_options() -> dict:
    return {"fallback_model": "anthropic:claude-sonnet-4-6", "retry_attempts": 2}


async def test_overloaded_model_hands_over_to_the_fallback_and_says_so(stack) -> None:
    stack.model.script(Status(529), Status(529), Text("Answer from the fallback."))
    posted = stack.mention("anyone there?")
    [reply] = await stack.answer("general", posted["ts"])
    assert reply["text"].strip() == "Answer from the fallback."
    assert stack.model.requests[-1].json["model"] == "claude-sonnet-4-6"
    footer = str(reply["blocks"])
    assert "Claude Sonnet 4.6" in footer and "overloaded" in footer
