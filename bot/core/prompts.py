"""System prompts, loaded from ``seeds/prompts/`` and filled in for one conversation.

Every ``*.md`` file there is a template, named by its file name: ``system.md`` is the default,
and a catalog entry may name another (``prompt: embedded.md``) for a model that needs simpler
words. Templates use ``string.Template`` placeholders (``${workspace}``, ``${channel}``,
``${user}``, ``${date}``) because Markdown prompts are full of braces that ``str.format`` would
trip over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

from bot.core.conversation import Conversation
from bot.resources import SEEDS_DIR

log = logging.getLogger("teammate.core.prompts")

DEFAULT_PROMPTS_DIR = SEEDS_DIR / "prompts"
DEFAULT_PROMPT = "system.md"


class PromptError(ValueError):
    """A prompt file is missing or unreadable."""


@dataclass(frozen=True, slots=True)
class Prompts:
    """The prompt templates by file name, read once at start."""

    templates: Mapping[str, str]

    @classmethod
    def load(cls, directory: Path | str | None = None) -> Prompts:
        """Read the templates from ``directory`` (default: the seeds shipped with the product)."""
        folder = Path(directory) if directory is not None else DEFAULT_PROMPTS_DIR
        templates: dict[str, str] = {}
        for file in sorted(folder.glob("*.md")) or [folder / DEFAULT_PROMPT]:
            try:
                text = file.read_text(encoding="utf-8")
            except OSError as exc:
                raise PromptError(f"cannot read the prompt {file.name}: {exc.strerror}") from exc
            if not text.strip():
                raise PromptError(f"the prompt {file.name} is empty")
            templates[file.name] = text
        if DEFAULT_PROMPT not in templates:
            raise PromptError(f"the system prompt {DEFAULT_PROMPT} is missing from {folder.name}/")
        return cls(templates=templates)

    def system(
        self, conversation: Conversation, today: date | None = None, name: str | None = None
    ) -> str:
        """The system prompt ``name`` (default ``system.md``) for ``conversation``.

        Unknown placeholders are left as written. An unknown ``name`` falls back to the default
        (with a warning in the log), so a catalog entry naming a missing prompt still answers.
        """
        template = self.templates.get(name or DEFAULT_PROMPT)
        if template is None:
            log.warning("prompt %s not found; using %s", name, DEFAULT_PROMPT)
            template = self.templates[DEFAULT_PROMPT]
        values = {
            "workspace": _workspace(conversation.workspace),
            "channel": _channel(conversation.channel),
            "user": conversation.user or "a colleague",
            "date": (today or date.today()).strftime("%A, %d %B %Y"),
        }
        return Template(template).safe_substitute(values).strip()


def _workspace(workspace: str) -> str:
    return f"the {workspace} workspace" if workspace else "a Slack workspace"


def _channel(channel: str) -> str:
    if not channel:
        return "a direct message"
    if channel.startswith(("#", "a ", "the ")):
        return channel
    return f"#{channel}"
