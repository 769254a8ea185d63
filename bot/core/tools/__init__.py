"""The tools an answer may use, chosen per channel.

A :class:`Toolbox` gives the agent run of one answer the toolsets its :class:`Scope` allows
(pydantic-ai toolsets: function tools, MCP servers). The run takes them per answer, so two
channels can be offered different tools by one agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic_ai.toolsets import AbstractToolset

from bot.core.conversation import Scope
from bot.core.deps import AnswerDeps
from bot.core.events import Risk


class Toolbox(Protocol):
    def toolsets(self, scope: Scope) -> Sequence[AbstractToolset[AnswerDeps]]:
        """The toolsets offered to an answer in ``scope``."""
        ...

    def title(self, name: str, args: dict[str, Any]) -> str:
        """What a person reads while the call of ``name`` with ``args`` runs."""
        ...

    def risk(self, name: str) -> Risk:
        """``read`` runs at once; ``write`` and ``external`` wait for a person's approval."""
        ...


class NoTools:
    """No tools anywhere: the model only writes."""

    def toolsets(self, scope: Scope) -> Sequence[AbstractToolset[AnswerDeps]]:
        return ()

    def title(self, name: str, args: dict[str, Any]) -> str:
        return name

    def risk(self, name: str) -> Risk:
        return "external"
