"""The core's configuration: a plain frozen object the app builds from its settings.

The core never reads the environment or ``bot.settings`` itself, so tests and tools can run it
with exactly the values they pass. :meth:`CoreConfig.from_attributes` reads every field by its
name from any settings object, so a new setting reaches the core by being named the same on
both sides, never by a line copying it over.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import SecretStr


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """What the agent service needs to reach models.

    ``model`` and ``fallback_model`` are catalog references (alias, key or ``provider:model``).
    ``retry_attempts`` counts every try of one request, the first included; waits grow from
    ``retry_backoff`` seconds with jitter, and no wait (a ``retry-after`` included) is longer than
    ``retry_max_wait``. ``request_timeout`` bounds connecting and each read from the provider;
    ``stream_idle_timeout`` bounds the silence between two pieces of a streaming answer.
    ``tool_timeout`` bounds one tool call unless the tool sets its own. ``web_tools`` names the
    provider's server tools an answer may use (``search,fetch``; "" for none).
    ``local_model_url`` is where the embedded model's OpenAI-compatible server listens.
    """

    anthropic_api_key: str | None = None
    anthropic_base_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    model: str = "fast"
    fallback_model: str | None = None
    retry_attempts: int = 4
    retry_max_wait: float = 20.0
    retry_backoff: float = 0.5
    request_timeout: float = 60.0
    stream_idle_timeout: float = 30.0
    tool_timeout: float = 30.0
    web_tools: str = ""
    local_model_url: str | None = None

    @classmethod
    def from_attributes(cls, source: object, **overrides: Any) -> CoreConfig:
        """The fields of this config that ``source`` has, by name (secrets unwrapped), then
        ``overrides``; the rest keep their defaults. A ``None`` override is ignored."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            if hasattr(source, item.name):
                value = getattr(source, item.name)
                values[item.name] = (
                    value.get_secret_value() if isinstance(value, SecretStr) else value
                )
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)

    def secrets(self) -> tuple[str, ...]:
        """The values that must never reach a log line or a message."""
        return tuple(key for key in (self.anthropic_api_key, self.openai_api_key) if key)
