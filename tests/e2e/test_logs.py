"""Secrets never reach the log, even at DEBUG and when things go wrong."""

from __future__ import annotations

import io
import logging

import pytest

from bot import logs
from bot.testkit.fakes import Status, Text

API_KEY = "sk-ant-api03-never-log-this-key"


@pytest.fixture
def bot_options() -> dict:
    return {"anthropic_api_key": API_KEY}


@pytest.fixture
def captured():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    buffer = io.StringIO()
    logs.configure("DEBUG", stream=buffer)
    yield buffer
    root.handlers[:], root.level = saved


async def test_tokens_and_keys_are_redacted_from_every_log_line(stack, captured) -> None:
    stack.model.script(Status(401, error_type="authentication_error"), Text("fine"))
    posted = stack.mention("first")
    [reply] = await stack.answer("general", posted["ts"])
    assert "ANTHROPIC_API_KEY" in reply["text"]  # the note says which setting to check
    posted = stack.mention("second")
    await stack.answer("general", posted["ts"])
    text = captured.getvalue()
    assert "ref=" in text  # the failure was logged with its reference
    for secret in (API_KEY, stack.sandbox.bot_token, stack.sandbox.signing_secret):
        assert secret not in text
    assert "Traceback" not in reply["text"]
