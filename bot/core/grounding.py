"""What a model that cannot call tools is given before it answers.

A model with tools searches when it needs to; one without (the embedded model) would answer
blind. A :class:`Grounder` looks at the question before the run and returns a short block for
the prompt, the step a person sees ("Looked in the team's knowledge") and the sources it drew
on, so the answer cites them like a tool's. Knowledge is one grounder; a channel's memory can be
another, written the same way.

Kept small for a 135M-parameter model: the best two or three sections, a few hundred characters
each; more text drowns the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.conversation import Conversation
from bot.core.events import Source
from bot.core.knowledge.store import KnowledgeStore
from bot.core.knowledge.tool import section_title, sources_of

SECTIONS = 3
SECTION_CHARS = 400
RELATIVE_SCORE = 0.5
"""A section scoring under this share of the best one is left out: a weak match (one shared
word, often only the document's title) costs a small model more than it helps."""


@dataclass(frozen=True, slots=True)
class Grounding:
    """``text`` goes into the prompt; ``title`` and ``summary`` make the step a person sees,
    ``notice`` the footer's line; ``sources`` are cited under the answer."""

    name: str
    title: str
    text: str
    summary: str
    notice: str
    sources: tuple[Source, ...] = ()


class Grounder(Protocol):
    async def ground(self, conversation: Conversation) -> Grounding | None:
        """What to put before the question, or None when there is nothing worth it."""
        ...


class KnowledgeGrounder:
    """The sections of the team's knowledge that best match the question."""

    def __init__(
        self, store: KnowledgeStore, sections: int = SECTIONS, chars: int = SECTION_CHARS
    ) -> None:
        self.store = store
        self.sections = sections
        self.chars = chars

    async def ground(self, conversation: Conversation) -> Grounding | None:
        question = conversation.turns[-1].text if conversation.turns else ""
        hits = await self.store.search(question, self.sections)
        if not hits:
            return None
        hits = [hit for hit in hits if hit.score >= hits[0].score * RELATIVE_SCORE]
        notes = [f"- {section_title(hit)}: {excerpt(hit.body, self.chars)}" for hit in hits]
        text = (
            "Notes from the team's documents. Use them when they answer the question:\n"
            + "\n".join(notes)
        )
        count = f"{len(hits)} section{'s' if len(hits) != 1 else ''}"
        return Grounding(
            name="knowledge",
            title="Looked in the team's knowledge",
            text=text,
            summary=f"{count} given to the model",
            notice=f"This model cannot search, so {count} of the team's knowledge went into "
            "its prompt (listed under Sources)",
            sources=sources_of(hits),
        )


def excerpt(body: str, chars: int) -> str:
    """The start of ``body`` on one line, cut at a word near ``chars``."""
    line = " ".join(body.split())
    if len(line) <= chars:
        return line
    cut = line.rfind(" ", 0, chars)
    return line[: cut if cut > chars // 2 else chars].rstrip(",;:") + "…"
