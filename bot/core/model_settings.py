"""Per-request model settings: the output budget and, in deep mode, thinking per catalog style."""

from __future__ import annotations

from pydantic_ai.models.anthropic import AnthropicModelSettings
from pydantic_ai.models.openai import OpenAIChatModelSettings
from pydantic_ai.settings import ModelSettings

from bot.core.catalog import ModelSpec


def request_settings(spec: ModelSpec, deep: bool) -> ModelSettings:
    """Settings for one answer from ``spec``; a style the provider lacks is ignored silently."""
    if spec.provider == "anthropic":
        anthropic = AnthropicModelSettings(max_tokens=spec.max_output)
        if deep and spec.thinking == "budget":
            anthropic["anthropic_thinking"] = {
                "type": "enabled",
                "budget_tokens": spec.thinking_budget,
            }
        elif deep and spec.thinking in ("adaptive", "always"):
            # "always" models think anyway; asking explicitly gets a summary that can be shown.
            anthropic["anthropic_thinking"] = {"type": "adaptive", "display": "summarized"}
        return anthropic
    openai = OpenAIChatModelSettings(max_tokens=spec.max_output)
    if deep and spec.thinking == "effort":
        openai["openai_reasoning_effort"] = "high"
    return openai


def probe_settings(spec: ModelSpec) -> ModelSettings:
    """Settings for the one-token health check."""
    return ModelSettings(max_tokens=1)
