"""The conversation the agent answers: who said what, where, and for whom."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChannelKind = Literal["public", "private", "dm", "group_dm", "shared"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an answer happens and for whom: what memory, tool policy, approvals, budgets and
    usage are keyed by. ``shared`` is a channel shared with another organisation (whatever its
    privacy); names are for the prompt, ids for everything else."""

    team_id: str
    channel_id: str
    channel_kind: ChannelKind
    thread_ts: str
    user_id: str
    team_name: str = ""
    channel_name: str = ""
    user_name: str = ""


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

    ``model`` is a catalog alias or ``provider:model`` chosen for this conversation (None: the
    configured default); ``deep`` asks for extended thinking where the model has it.
    """

    turns: list[Turn]
    scope: Scope = field(default_factory=lambda: Scope("", "", "dm", "", ""))
    model: str | None = None
    deep: bool = False
    key: str = ""
    """The answer's key (its request's claim), given to its run (``AnswerDeps.key``)."""

    @property
    def workspace(self) -> str:
        return self.scope.team_name

    @property
    def channel(self) -> str:
        return self.scope.channel_name

    @property
    def user(self) -> str:
        return self.scope.user_name
