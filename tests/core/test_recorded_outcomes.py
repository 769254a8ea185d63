"""What a durable step records of a failed model request comes back as the request policy needs
it: the same exception, its causes kept, so a resumed answer retries or falls back exactly as the
first run did (bot.core.durable.steps)."""

from __future__ import annotations

import pickle

import httpx2
from pydantic_ai.exceptions import ModelConnectionError, ModelOverloadedError

from bot.core.durable.steps import Outcome
from bot.core.failures import rule_for
from bot.core.retry import StreamDropped, worth_another_attempt


def recorded(outcome: Outcome) -> Outcome:
    """The outcome as a resumed workflow reads it back from DBOS's pickle."""
    return pickle.loads(pickle.dumps(outcome))


def test_a_dropped_stream_is_still_worth_another_attempt_after_the_record() -> None:
    dropped = ModelConnectionError("claude", "peer closed")
    dropped.__cause__ = StreamDropped("peer closed")
    error = recorded(Outcome(error=dropped)).error
    assert isinstance(error, ModelConnectionError) and isinstance(error.__cause__, StreamDropped)
    assert worth_another_attempt(error) and worth_another_attempt(dropped)


def test_an_overload_in_the_stream_keeps_what_the_policy_reads() -> None:
    overloaded = ModelOverloadedError("claude", "Overloaded", in_stream=True)
    error = recorded(Outcome(error=overloaded)).error
    assert isinstance(error, ModelOverloadedError) and error.in_stream
    assert rule_for(error).kind == rule_for(overloaded).kind == "overloaded"
    assert worth_another_attempt(error)


def test_an_error_no_pickle_can_rebuild_is_recorded_as_its_words() -> None:
    request = httpx2.Request("POST", "https://api.example.com/v1/messages")
    refused = httpx2.HTTPStatusError(
        "status 400", request=request, response=httpx2.Response(400, request=request)
    )
    error = recorded(Outcome(error=refused)).error
    assert isinstance(error, RuntimeError) and str(error) == "HTTPStatusError: status 400"


def test_a_value_comes_back_as_it_was() -> None:
    assert recorded(Outcome({"text": "Deploys run at ten."})).result() == {
        "text": "Deploys run at ten."
    }
