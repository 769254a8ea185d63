"""Failures in words a user can act on; the log line has the detail but never a key."""

from __future__ import annotations

import httpx2
import pytest
from pydantic_ai.exceptions import (
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
)

from bot.core.catalog import Catalog, ModelSpec
from bot.core.failures import classify
from bot.core.providers import ProviderConfigError
from bot.core.redact import redact
from bot.core.references import new_reference
from bot.core.retry import StreamDropped, worth_another_attempt


@pytest.fixture
def sonnet(catalog: Catalog) -> ModelSpec:
    return catalog.resolve("claude-sonnet-4-6")


def http_error(category: type, status: int, body: object = None, **kw: object) -> ModelHTTPError:
    return ModelHTTPError.for_category(
        category, status_code=status, model_name="claude-sonnet-4-6", body=body, **kw
    )


def test_a_refused_key_names_the_setting(sonnet: ModelSpec, catalog: Catalog) -> None:
    failure = classify(http_error(ModelAuthenticationError, 401), sonnet, "api.example")
    assert failure.kind == "auth" and "ANTHROPIC_API_KEY" in failure.message
    qwen = catalog.resolve("openai:qwen3-8b")
    assert (
        "OPENAI_API_KEY" in classify(http_error(ModelAuthenticationError, 403), qwen, "h").message
    )


def test_an_unknown_model_names_the_model_setting(sonnet: ModelSpec) -> None:
    failure = classify(http_error(ModelNotFoundError, 404), sonnet, "h")
    assert "TEAMMATE_MODEL" in failure.message and "claude-sonnet-4-6" in failure.message


def test_a_rejected_request_does_not_show_the_body(sonnet: ModelSpec) -> None:
    body = {"error": {"message": "bad header x-api-key sk-ant-secret-123456789"}}
    failure = classify(http_error(ModelRequestRejectedError, 400, body), sonnet, "h")
    assert failure.kind == "rejected" and "400" in failure.message
    assert "sk-ant" not in failure.message and "x-api-key" not in failure.message
    assert not failure.fallback_ok


@pytest.mark.parametrize(
    ("category", "status", "kind"),
    [
        (ModelOverloadedError, 529, "overloaded"),
        (ModelRateLimitError, 429, "rate_limited"),
        (ModelServerError, 502, "server"),
    ],
)
def test_overload_says_try_again_and_allows_fallback(
    sonnet: ModelSpec, category: type, status: int, kind: str
) -> None:
    failure = classify(http_error(category, status), sonnet, "h")
    assert failure.kind == kind and failure.fallback_ok
    assert "Try again" in failure.message and "Claude Sonnet 4.6" in failure.message


def test_a_spend_limit_is_not_a_rate_limit(sonnet: ModelSpec) -> None:
    body = {
        "error": {
            "type": "rate_limit_error",
            "details": {"error_code": "enforced_spend_limit_reached"},
        }
    }
    failure = classify(http_error(ModelRateLimitError, 429, body), sonnet, "h")
    assert failure.kind == "quota" and not failure.fallback_ok


def test_connection_failures_name_the_host_only(sonnet: ModelSpec) -> None:
    failure = classify(ModelConnectionError("m", "refused"), sonnet, "10.1.2.3:8000")
    assert failure.message.startswith("Could not reach the model at 10.1.2.3:8000")


def test_configuration_problems_pass_their_own_message(sonnet: ModelSpec) -> None:
    failure = classify(ProviderConfigError("No Anthropic API key is configured."), sonnet, "h")
    assert failure.message == "No Anthropic API key is configured."


def test_cut_off_and_fallback_wording(sonnet: ModelSpec, catalog: Catalog) -> None:
    failure = classify(http_error(ModelOverloadedError, 529), sonnet, "h")
    assert failure.cut_off_message().startswith("The answer was cut off: the model is overloaded")
    assert failure.fallback_notice(sonnet, catalog.resolve("claude-haiku-4-5")) == (
        "Claude Sonnet 4.6 was overloaded; answered by Claude Haiku 4.5."
    )


def test_only_failures_of_an_open_stream_are_tried_again() -> None:
    in_stream = ModelOverloadedError("m", "Overloaded", in_stream=True)
    assert worth_another_attempt(in_stream)
    dropped = ModelConnectionError("m", "peer closed")
    dropped.__cause__ = StreamDropped("peer closed")
    assert worth_another_attempt(dropped)
    assert not worth_another_attempt(ModelConnectionError("m", "connection refused"))
    exhausted = http_error(ModelOverloadedError, 529)
    assert not worth_another_attempt(exhausted)
    assert not worth_another_attempt(httpx2.ReadTimeout("slow"))


def test_redaction_removes_configured_keys_and_key_shapes() -> None:
    text = "key=my-custom-key other=sk-ant-api03-abcdefghijkl slack=xoxb-1234567890-abc"
    clean = redact(text, ["my-custom-key"])
    assert "my-custom-key" not in clean and "sk-ant" not in clean and "xoxb" not in clean


def test_references_are_short_and_distinct() -> None:
    refs = {new_reference() for _ in range(50)}
    assert len(refs) == 50 and all(len(r) == 8 for r in refs)
