"""A task's working notes: what it has done and what is next, kept in the channel's memory.

A task's run is told to keep its notes with the ``memory`` tool in a folder of its own,
``/memories/tasks/<short id>/notes.md``. The notes outlive the run: a run that starts again for
the same task (resumed after a crash or a deploy) finds them and gets them in its
instructions, so it goes on from where they leave off instead of starting over. They also hold
what the run must not lose when old tool results are cleared to keep its history inside the
window (:mod:`bot.core.compaction`).

The notes are read once, when the run starts (``before_run`` of a per-run copy of the
capability), so the instructions stay the same for every request of the run and a provider's
prompt cache keeps its prefix; the model reads its newer notes with the tool when it needs
them. A run that is no task's, a model without tools, or a channel without memory gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability

from bot.core.deps import AnswerDeps
from bot.core.memory import ROOT, ChannelMemory
from bot.core.tasks.live import LiveTasks

NOTES_FOLDER = f"{ROOT}/tasks"


def notes_path(short_id: str) -> str:
    """Where the task ``short_id`` keeps its working notes."""
    return f"{NOTES_FOLDER}/{short_id}/notes.md"


def keep_notes(path: str) -> str:
    """What every task's run is told about its notes."""
    return (
        f"Keep working notes for this task with the memory tool in {path}: create it once you "
        "have a plan, then keep it current with str_replace or insert as you go: what is done "
        "(with the facts you found and where), and what is next. Old tool results may be "
        "cleared from this conversation to keep it within the context window, and the work may "
        "be interrupted and started again: write down what you would need then."
    )


def resume_from(path: str, notes: str) -> str:
    """What a run that starts again for the same task is told: its notes, and to go on."""
    return (
        f"You worked on this task before and were interrupted. Your notes from then ({path}):\n"
        f"<notes>\n{notes.strip()}\n</notes>\n"
        "Go on from where they leave off: do not redo what they say is done."
    )


@dataclass
class TaskNotes(AbstractCapability[AnswerDeps]):
    """Tells a task's run to keep working notes, and hands a resumed run the notes it kept."""

    live: LiveTasks
    memory: ChannelMemory
    _instructions: str = field(default="", init=False)

    async def for_run(self, ctx: RunContext[AnswerDeps]) -> TaskNotes:
        return TaskNotes(self.live, self.memory)

    async def before_run(self, ctx: RunContext[AnswerDeps]) -> None:
        self._instructions = await self.instructions_for(ctx.deps)

    async def instructions_for(self, deps: AnswerDeps) -> str:
        """The notes' instructions for a run with ``deps`` ("" when it is no task's, its model
        calls no tools, or its channel keeps no memory)."""
        live = self.live.of(deps.scope)
        if live is None or not deps.answer.serving.tools:
            return ""
        owner = await self.memory.access.owner(deps.scope)
        if owner is None:
            return ""
        path = notes_path(live.task.short_id)
        told = keep_notes(path)
        kept = await self.memory.store.get(owner, path)
        if kept is not None and kept.text.strip():
            told = f"{told}\n\n{resume_from(path, kept.text)}"
        return told

    def get_instructions(self) -> Callable[[RunContext[AnswerDeps]], str]:
        def notes(ctx: RunContext[AnswerDeps]) -> str:
            return self._instructions

        return notes
