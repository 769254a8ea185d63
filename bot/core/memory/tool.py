"""The ``memory`` tool: Anthropic's memory tool commands over the answer's channel memory.

On a Claude model whose catalog entry has ``native_memory`` the tool is declared as Anthropic's
own memory tool (``memory_20250818``, which Claude was trained on) through pydantic-ai's
``NativeTool(MemoryTool(optional=True))``; the calls still arrive at the function below. On any
other model the same function is an ordinary tool with a JSON schema. Where the answer has no
memory (a shared channel no admin allowed), neither is declared.

The native declaration is a capability of the agent (one could be given per run too, with
``run_stream_events(capabilities=...)``) whose tool is chosen per request from the run's deps,
so one agent serves every channel and what a run is offered depends only on its deps.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic_ai import RunContext
from pydantic_ai.capabilities import NativeTool
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.native_tools import MemoryTool
from pydantic_ai.tools import ToolDefinition

from bot.core.deps import AnswerDeps
from bot.core.memory.access import MemoryAccess
from bot.core.memory.files import MemoryFiles
from bot.core.memory.paths import ROOT, MemoryProblem
from bot.core.tools.registry import ToolDef
from bot.core.tools.result import ToolResult

Command = Literal["view", "create", "str_replace", "insert", "delete", "rename"]


def memory_tool(access: MemoryAccess, files: MemoryFiles) -> ToolDef:
    """The ``memory`` tool for the registry."""

    async def memory(
        ctx: RunContext[AnswerDeps],
        command: Command,
        path: str | None = None,
        file_text: str | None = None,
        old_str: str | None = None,
        new_str: str | None = None,
        insert_line: int | None = None,
        insert_text: str | None = None,
        view_range: list[int] | None = None,
        old_path: str | None = None,
        new_path: str | None = None,
    ) -> ToolResult:
        """Notes kept for this channel (in a direct message, for this person), as files under
        /memories, shared by every thread here and kept across conversations. View /memories
        before answering when earlier decisions or preferences may matter; save what the team
        asks you to remember ("remember for this channel: ...") and durable facts and decisions,
        never secrets. Only Teammate's own notes are changed, so no approval is asked.

        Args:
            command: view (a folder's listing, or a note with line numbers), create (a new
                note), str_replace (replace text that appears exactly once), insert (add lines
                after a line number; 0 is the top), delete (a note or folder), rename.
            path: the note or folder, under /memories (all commands but rename).
            file_text: the whole text of a new note (create).
            old_str: the exact text to replace, unique in the note (str_replace).
            new_str: the text to put in its place (str_replace).
            insert_line: the line after which to insert (insert).
            insert_text: the lines to insert (insert).
            view_range: [first line, last line], -1 for the end (view of a note).
            old_path: the note or folder to rename (rename).
            new_path: its new path (rename).
        """
        scope = ctx.deps.scope
        owner = await access.owner(scope)
        if owner is None:
            raise ToolFailed("This channel keeps no memory.")
        by = scope.user_id
        try:
            if command == "view":
                text = await files.view(owner, path, view_range)
            elif command == "create":
                text = await files.create(owner, by, path, file_text)
            elif command == "str_replace":
                text = await files.str_replace(owner, by, path, old_str, new_str)
            elif command == "insert":
                text = await files.insert(owner, by, path, insert_line, insert_text)
            elif command == "delete":
                text = await files.delete(owner, path)
            elif command == "rename":
                text = await files.rename(owner, old_path, new_path)
            else:
                raise MemoryProblem(f"Unknown command {command!r}.")
        except MemoryProblem as exc:
            raise ToolFailed(str(exc)) from None
        return ToolResult(text, summary=_summary(command, text))

    async def only_with_memory(
        ctx: RunContext[AnswerDeps], tool: ToolDefinition
    ) -> ToolDefinition | None:
        return tool if await access.owner(ctx.deps.scope) is not None else None

    return ToolDef(memory, risk="read", title=title, prepare=only_with_memory)


def native_memory(access: MemoryAccess) -> NativeTool[AnswerDeps]:
    """The agent's capability that declares ``memory`` as Anthropic's memory tool where the
    serving model has it and the answer has a memory (and tools) at all."""

    async def declared(ctx: RunContext[AnswerDeps]) -> MemoryTool | None:
        spec = ctx.deps.answer.serving
        if not (spec.tools and spec.native_memory):
            return None
        if await access.owner(ctx.deps.scope) is None:
            return None
        return MemoryTool(optional=True)

    return NativeTool(declared)


def title(args: dict[str, Any]) -> str:
    """The step's line while a memory command runs."""
    command, path = args.get("command"), args.get("path") or ROOT
    if command == "view":
        return "Reading the notes" if path.rstrip("/") == ROOT else f"Reading {path}"
    if command == "create":
        return f"Saving {path}"
    if command in ("str_replace", "insert"):
        return f"Editing {path}"
    if command == "delete":
        return f"Deleting {path}"
    if command == "rename":
        return f"Renaming {args.get('old_path')} to {args.get('new_path')}"
    return "Using the memory"


def _summary(command: str, text: str) -> str:
    if command == "view":
        return "empty" if text.endswith("no notes have been kept here yet.") else "read"
    return {"create": "saved", "delete": "deleted", "rename": "renamed"}.get(command, "edited")
