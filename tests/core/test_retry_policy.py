"""Which failures are retried and how long each wait is (computed, not timed)."""

from __future__ import annotations

import json

import httpx2
import pytest
from pydantic_ai.exceptions import ModelHTTPError, ModelRateLimitError
from tenacity import AsyncRetrying, RetryCallState

from bot.core.config import CoreConfig
from bot.core.retry import is_retryable_transport_error, retry_wait, should_retry_response

REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/messages")


def response(status: int, body: object = None, **headers: str) -> httpx2.Response:
    content = json.dumps(body).encode() if body is not None else b""
    return httpx2.Response(status, headers=headers, content=content, request=REQUEST)


def failed_state(exc: BaseException, attempt: int = 1) -> RetryCallState:
    state = RetryCallState(retry_object=AsyncRetrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def status_error(status: int, **headers: str) -> httpx2.HTTPStatusError:
    return httpx2.HTTPStatusError("x", request=REQUEST, response=response(status, **headers))


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(status: int) -> None:
    assert should_retry_response(response(status))


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 413, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert not should_retry_response(response(status))


def test_a_spend_limit_429_is_not_retried() -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "spend limit",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    assert not should_retry_response(response(429, body))
    assert should_retry_response(response(429, {"error": {"type": "rate_limit_error"}}))


def test_the_provider_can_say_do_not_retry() -> None:
    assert not should_retry_response(response(529, **{"x-should-retry": "false"}))


def test_connection_failures_are_retried_but_a_silent_server_is_not() -> None:
    assert is_retryable_transport_error(httpx2.ConnectError("refused"))
    assert is_retryable_transport_error(httpx2.RemoteProtocolError("closed"))
    assert not is_retryable_transport_error(httpx2.ReadTimeout("silent"))
    assert not is_retryable_transport_error(ValueError("bug"))


def test_retry_after_is_honoured() -> None:
    wait = retry_wait(CoreConfig(retry_max_wait=20, retry_backoff=0.01))
    assert wait(failed_state(status_error(429, **{"retry-after": "1"}))) == 1.0


def test_a_huge_retry_after_is_capped() -> None:
    wait = retry_wait(CoreConfig(retry_max_wait=20))
    assert wait(failed_state(status_error(429, **{"retry-after": "3600"}))) == 20.0
    assert wait(failed_state(status_error(429, **{"retry-after-ms": "90000000"}))) == 20.0


def test_retry_after_on_a_model_error_is_capped_too() -> None:
    error = ModelHTTPError.for_category(
        ModelRateLimitError, status_code=429, model_name="m", headers={"retry-after": "600"}
    )
    assert retry_wait(CoreConfig(retry_max_wait=5))(failed_state(error)) == 5.0


def test_without_retry_after_the_wait_grows_with_jitter_and_stays_under_the_cap() -> None:
    wait = retry_wait(CoreConfig(retry_max_wait=3, retry_backoff=0.5))
    first = wait(failed_state(status_error(529), attempt=1))
    fourth = wait(failed_state(status_error(529), attempt=4))
    assert 0.5 <= first <= 1.5
    assert first < fourth <= 3
    later = [wait(failed_state(status_error(529), attempt=10)) for _ in range(20)]
    assert all(w <= 3 for w in later)
