"""What one answer's agent run is given (pydantic-ai's deps): where it is, and its models.

Plain data handed to the run explicitly, never kept in a closure or a context variable, so a
durable runner can rebuild a run from what it recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic_ai.models import Model

from bot.core.catalog import ModelSpec
from bot.core.conversation import Scope


@dataclass(slots=True)
class AnswerState:
    """The models an answer may use and which one is serving it now.

    ``fallback_kind`` is set when the fallback took over, with the kind of failure that made
    it (for the notice under the answer).
    """

    primary: ModelSpec
    primary_model: Model
    fallback: ModelSpec | None = None
    fallback_model: Model | None = None
    deep: bool = False
    serving: ModelSpec = field(init=False)
    fallback_kind: str | None = None
    first_attempt_on_model: int = 1

    def __post_init__(self) -> None:
        self.serving = self.primary

    @property
    def on_fallback(self) -> bool:
        return self.fallback_kind is not None

    def spec_of(self, model: Model) -> ModelSpec:
        if self.fallback is not None and model is self.fallback_model:
            return self.fallback
        return self.primary


@dataclass(slots=True)
class AnswerDeps:
    """What one answer's run is given: where it is, and how its requests are made."""

    scope: Scope
    answer: AnswerState
    key: str = ""
    """The answer's own key (its claim's; "" when it has none): what keys a side effect the
    run starts, so a run of the same answer again does not start it twice."""
