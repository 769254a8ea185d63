"""Deep mode asks each model for thinking the way that model takes it."""

from __future__ import annotations

from bot.core.catalog import Catalog
from bot.core.model_settings import request_settings


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
    settings = request_settings(catalog.resolve("local"), deep=True)
    assert dict(settings) == {"max_tokens": catalog.resolve("local").max_output}
