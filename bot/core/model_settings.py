"""Per-request model settings from the catalog entry: the output budget, sampling and stop
sequences where the provider takes them, and, in deep mode, thinking per catalog style.

In deep mode a budget model's ``max_tokens`` (the catalog's ``max_output``) stays above its
thinking budget: the catalog refuses to load otherwise, since the API would reject the request.

Anthropic never gets sampling settings: SDK 2.14's ``messages.create`` has no ``temperature``
argument and newer Claude models reject non-default sampling, so only the output budget, stop
sequences and thinking are sent there.

pydantic-ai sends the output budget of an OpenAI-compatible request as
``max_completion_tokens``, which llama.cpp's server ignores (it reads only ``max_tokens``, and
without it writes until the context is full): the embedded model gets ``max_tokens`` as well.
"""

from __future__ import annotations

from pydantic_ai.models.anthropic import AnthropicModelSettings
from pydantic_ai.models.openai import OpenAIChatModelSettings
from pydantic_ai.settings import ModelSettings

from bot.core.catalog import ModelSpec

INTERLEAVED_THINKING = "interleaved-thinking-2025-05-14"
"""Thinking between tool calls; adaptive thinking has it built in, budget thinking needs it."""


def request_settings(spec: ModelSpec, deep: bool) -> ModelSettings:
    """Settings for one answer from ``spec``; a style the provider lacks is ignored silently."""
    if spec.provider == "anthropic":
        anthropic = AnthropicModelSettings(max_tokens=spec.max_output)
        if spec.stop:
            anthropic["stop_sequences"] = list(spec.stop)
        if deep and spec.thinking == "budget":
            anthropic["anthropic_thinking"] = {
                "type": "enabled",
                "budget_tokens": spec.thinking_budget,
            }
            # Without it a budget-style model thinks only before its first tool call.
            anthropic["anthropic_betas"] = [INTERLEAVED_THINKING]
        elif deep and spec.thinking in ("adaptive", "always"):
            # "always" models think anyway; asking explicitly gets a summary that can be shown.
            anthropic["anthropic_thinking"] = {"type": "adaptive", "display": "summarized"}
        return anthropic
    openai = OpenAIChatModelSettings(max_tokens=spec.max_output)
    if spec.temperature is not None:
        openai["temperature"] = spec.temperature
    if spec.top_p is not None:
        openai["top_p"] = spec.top_p
    if spec.stop:
        openai["stop_sequences"] = list(spec.stop)
    if spec.provider == "local":
        openai["extra_body"] = {"max_tokens": spec.max_output}
    if deep and spec.thinking == "effort":
        openai["openai_reasoning_effort"] = "high"
    return openai


def probe_settings(spec: ModelSpec) -> ModelSettings:
    """Settings for the one-token health check."""
    return ModelSettings(max_tokens=1)
