"""What an answer is told about its memory before the model is asked.

A model with tools gets the list of the notes and is told to ``view`` what matters (the notes
themselves stay out of the prompt: they may be long, and the model reads only what it needs).
A model without tools (the embedded model) cannot read them, so the notes are put into its
prompt, cut short; and a message that starts with "remember for this channel:" is saved as a
note directly, since that model cannot save it itself. The words are templates in
``seeds/prompts`` (``memory.md``, ``memory_notes.md``, ``memory_off.md``).

The memory is read from the database for every answer, never cached, so replicas see each
other's notes at once. That costs one indexed query (a second, on its primary key, in a channel
shared with another organisation, for the admin's decision): the paths alone for a model with
tools, from the primary key's index; for one without, the notes' texts cut by the database to
what the prompt takes. bench/memory_reads.py measures it: one statement, about a millisecond,
even for a full memory (docs/benchmarks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from bot.core.catalog import ModelSpec
from bot.core.conversation import Conversation
from bot.core.memory.access import MemoryAccess
from bot.core.memory.paths import ROOT, MemoryProblem
from bot.core.memory.store import MemoryStore, Note
from bot.core.prompts import Prompts

REMEMBER = re.compile(r"^\s*remember for this channel\s*:\s*(?P<note>.*)", re.I | re.S)
NOTES_FILE = f"{ROOT}/notes.md"
"""Where what people ask to remember goes when no model chose a note for it."""
PROMPT_NOTES_CHARS = 1_200
"""The most of the notes a model without tools gets in its prompt (a small model's window is
small, and it follows a short prompt better)."""
LISTED_NOTES = 30

_DEFAULTS = {
    "memory.md": "${place} has notes in its memory: ${listing}. View what may matter with the "
    "memory tool before answering; save what people ask you to remember.",
    "memory_notes.md": "Notes kept for ${place}:\n${notes}",
    "memory_off.md": "${place} keeps no memory.",
}


@dataclass(frozen=True, slots=True)
class Briefing:
    """``instructions`` go after the system prompt; ``reply`` (when set) is the whole answer,
    given without the model; ``notice`` is said under the answer."""

    instructions: str = ""
    reply: str | None = None
    notice: str | None = None


class MemoryBriefing:
    def __init__(self, access: MemoryAccess, store: MemoryStore, prompts: Prompts) -> None:
        self.access = access
        self.store = store
        self.prompts = prompts

    async def brief(self, conversation: Conversation, spec: ModelSpec) -> Briefing:
        scope = conversation.scope
        place = "This direct message" if scope.channel_kind == "dm" else "This channel"
        owner = await self.access.owner(scope)
        asked = _remember_request(conversation) if not spec.tools else None
        if owner is None:
            off = self._fill("memory_off.md", place=place)
            if asked is not None:
                return Briefing(reply=off)
            return Briefing(instructions=off)
        if asked is not None:
            return await self._save(owner, scope.user_id, asked, place)
        if spec.tools:
            paths = await self.store.paths(owner)
            return Briefing(
                instructions=self._fill("memory.md", place=place, listing=_listing(paths))
            )
        notes = await self.store.newest(owner, PROMPT_NOTES_CHARS + 1)
        if not notes:
            return Briefing()
        text = _excerpt(notes)
        return Briefing(
            instructions=self._fill("memory_notes.md", place=place.lower(), notes=text),
            notice=f"Answered with this {_where(place)}'s memory in the prompt.",
        )

    async def _save(self, owner: str, by: str, note: str, place: str) -> Briefing:
        if not note:
            return Briefing(reply="Tell me what to remember after the colon, and I'll keep it.")
        existing = await self.store.get(owner, NOTES_FILE)
        line = f"- {' '.join(note.split())}"
        text = f"{existing.text.rstrip()}\n{line}" if existing and existing.text.strip() else line
        try:
            await self.store.write(owner, NOTES_FILE, text, by)
        except MemoryProblem as exc:
            return Briefing(reply=f"I couldn't save that: {exc}")
        return Briefing(
            reply=f"Saved for this {_where(place)}: “{line[2:]}”. "
            "I'll use it in later answers here; `/teammate memory` shows every note.",
            notice="Saved without the model: it cannot use tools.",
        )

    def _fill(self, name: str, **values: str) -> str:
        template = self.prompts.templates.get(name, _DEFAULTS[name])
        return Template(template).safe_substitute(values).strip()


def _remember_request(conversation: Conversation) -> str | None:
    if not conversation.turns or conversation.turns[-1].role != "user":
        return None
    found = REMEMBER.match(conversation.turns[-1].text)
    return found["note"].strip() if found else None


def _listing(paths: list[str]) -> str:
    if not paths:
        return f"none yet ({ROOT} is empty)"
    shown = ", ".join(paths[:LISTED_NOTES])
    more = len(paths) - LISTED_NOTES
    return shown + (f" and {more} more" if more > 0 else "")


def _excerpt(notes: list[Note]) -> str:
    """The notes (newest first), cut to :data:`PROMPT_NOTES_CHARS`."""
    parts: list[str] = []
    left = PROMPT_NOTES_CHARS
    for note in notes:
        text = note.text.strip()
        if not text or left <= 0:
            continue
        piece = text if len(text) <= left else text[: left - 1].rstrip() + "…"
        parts.append(piece)
        left -= len(piece)
    return "\n".join(parts)


def _where(place: str) -> str:
    return place.removeprefix("This ").lower()
