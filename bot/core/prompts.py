"""System prompts, loaded from ``seeds/prompts/`` and filled in for one conversation.

Templates use ``string.Template`` placeholders (``${workspace}``, ``${channel}``, ``${user}``,
``${date}``) because Markdown prompts are full of braces that ``str.format`` would trip over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

from bot.core.conversation import Conversation
from bot.resources import SEEDS_DIR

DEFAULT_PROMPTS_DIR = SEEDS_DIR / "prompts"


class PromptError(ValueError):
    """A prompt file is missing or unreadable."""


@dataclass(frozen=True, slots=True)
class Prompts:
    """The prompt templates, read once at start."""

    system_template: str

    @classmethod
    def load(cls, directory: Path | str | None = None) -> Prompts:
        """Read the templates from ``directory`` (default: the seeds shipped with the product)."""
        folder = Path(directory) if directory is not None else DEFAULT_PROMPTS_DIR
        file = folder / "system.md"
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PromptError(f"cannot read the system prompt {file.name}: {exc.strerror}") from exc
        if not text.strip():
            raise PromptError(f"the system prompt {file.name} is empty")
        return cls(system_template=text)

    def system(self, conversation: Conversation, today: date | None = None) -> str:
        """The system prompt for ``conversation``; unknown placeholders are left as written."""
        values = {
            "workspace": _workspace(conversation.workspace),
            "channel": _channel(conversation.channel),
            "user": conversation.user or "a colleague",
            "date": (today or date.today()).strftime("%A, %d %B %Y"),
        }
        return Template(self.system_template).safe_substitute(values).strip()


def _workspace(workspace: str) -> str:
    return f"the {workspace} workspace" if workspace else "a Slack workspace"


def _channel(channel: str) -> str:
    if not channel:
        return "a direct message"
    if channel.startswith(("#", "a ", "the ")):
        return channel
    return f"#{channel}"
