"""What a tool gives back, for the model and for the person watching its step."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import Source


@dataclass(frozen=True, slots=True)
class ToolResult:
    """``text`` is what the model reads; ``summary`` is the step's one line for the person
    watching, ``sources`` what the result came from (documents, messages, pages)."""

    text: str
    summary: str = ""
    sources: tuple[Source, ...] = ()
