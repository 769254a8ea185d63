"""The conversation the agent answers: who said what, and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of the thread. ``speaker`` is the display name shown to the model."""

    role: Literal["user", "assistant"]
    text: str
    speaker: str = ""
    ts: str | None = None


@dataclass(slots=True)
class Conversation:
    """A thread as the model will see it, oldest turn first; the last turn is the question.

    ``workspace``, ``channel`` and ``user`` fill the system prompt; ``model`` is a catalog alias
    or ``provider:model`` chosen for this conversation (None: the configured default);
    ``deep`` asks for extended thinking where the model has it.
    """

    turns: list[Turn]
    workspace: str = ""
    channel: str = ""
    user: str = ""
    model: str | None = None
    deep: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
