"""Each catalog entry's request settings: thinking the way that model takes it in deep mode,
sampling and stop sequences where the provider accepts them, and never sampling for Claude."""

from __future__ import annotations

import pytest

from bot.core.catalog import Catalog
from bot.core.model_settings import request_settings

SAMPLING = ("temperature", "top_p")


def test_budget_style_sends_enabled_with_a_budget(catalog: Catalog) -> None:
    haiku = catalog.resolve("claude-haiku-4-5")
    settings = request_settings(haiku, deep=True)
    assert settings.get("anthropic_thinking") == {
        "type": "enabled",
        "budget_tokens": haiku.thinking_budget,
    }
    assert haiku.thinking_budget < settings["max_tokens"]


def test_adaptive_and_always_styles_send_adaptive(catalog: Catalog) -> None:
    for key in ("claude-sonnet-4-6", "claude-opus-4-7", "claude-opus-5-5"):
        settings = request_settings(catalog.resolve(key), deep=True)
        assert settings.get("anthropic_thinking", {}).get("type") == "adaptive"


def test_without_deep_no_thinking_is_requested(catalog: Catalog) -> None:
    for key in ("claude-haiku-4-5", "claude-sonnet-4-6", "openai:qwen3-8b"):
        settings = request_settings(catalog.resolve(key), deep=False)
        assert "anthropic_thinking" not in settings
        assert "openai_reasoning_effort" not in settings


def test_openai_compatible_models_get_a_reasoning_effort(catalog: Catalog) -> None:
    settings = request_settings(catalog.resolve("openai:qwen3-8b"), deep=True)
    assert settings.get("openai_reasoning_effort") == "high"


def test_a_model_without_thinking_ignores_deep_mode(catalog: Catalog) -> None:
    local = catalog.resolve("local")
    assert request_settings(local, deep=True) == request_settings(local, deep=False)


def test_the_embedded_model_decodes_greedily_and_answers_short(catalog: Catalog) -> None:
    local = catalog.resolve("local")
    settings = request_settings(local, deep=False)
    assert settings["temperature"] == 0.0
    assert settings["max_tokens"] == local.max_output <= 512
    # llama.cpp's server ignores max_completion_tokens, which pydantic-ai sends by default.
    assert settings["extra_body"] == {"max_tokens": local.max_output}


@pytest.mark.parametrize("deep", [False, True])
def test_no_sampling_is_ever_sent_to_anthropic(catalog: Catalog, deep: bool) -> None:
    claude = [spec for spec in catalog.models.values() if spec.provider == "anthropic"]
    assert claude
    for spec in claude + [catalog.resolve("anthropic:claude-future-9")]:
        settings = request_settings(spec, deep=deep)
        assert not any(name in settings for name in SAMPLING), spec.key


def test_sampling_and_stop_sequences_reach_an_openai_compatible_model() -> None:
    entry = {
        "provider": "openai",
        "model": "qwen3-8b",
        "context_window": 32768,
        "max_output": 2048,
        "temperature": 0.7,
        "top_p": 0.9,
        "stop": ["\nUser:"],
    }
    spec = Catalog.from_dict({"models": {"qwen": entry}}).resolve("qwen")
    settings = request_settings(spec, deep=False)
    assert (settings["temperature"], settings["top_p"]) == (0.7, 0.9)
    assert settings["stop_sequences"] == ["\nUser:"]
    assert settings["max_tokens"] == 2048


def test_stop_sequences_are_sent_to_anthropic_without_sampling() -> None:
    entry = {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "context_window": 200000,
        "max_output": 16000,
        "stop": ["</answer>"],
    }
    spec = Catalog.from_dict({"models": {"haiku": entry}}).resolve("haiku")
    settings = request_settings(spec, deep=False)
    assert settings["stop_sequences"] == ["</answer>"]
    assert not any(name in settings for name in SAMPLING)
