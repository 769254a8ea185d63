"""Anthropic's memory tool commands over one memory's notes: view, create, str_replace,
insert, delete, rename.

The answers follow the wording of Anthropic's reference tool (line numbers as ``%6d\\t``, a
listing of the folder), so a Claude model trained on it reads them as it expects; any other
model reads plain sentences. Every refusal is a :class:`MemoryProblem` whose message says
what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.memory.paths import ROOT, MemoryProblem, canonical, note_path
from bot.core.memory.store import MemoryStore, Note

COMMANDS = ("view", "create", "str_replace", "insert", "delete", "rename")


class MemoryFiles:
    """The commands; ``owner`` names the memory (see :func:`bot.core.memory.owner_of`) and
    ``by`` the person whose answer made the change."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def view(
        self, owner: str, path: str | None, view_range: Sequence[int] | None = None
    ) -> str:
        where = canonical(path or ROOT)
        note = None if where == ROOT else await self.store.get(owner, where)
        if note is not None:
            return _numbered(note, view_range)
        notes = await self.store.notes(owner, where)
        if where == ROOT and not notes:
            return f"{ROOT} is empty: no notes have been kept here yet."
        if not notes:
            raise MemoryProblem(f"The path {where} does not exist. View {ROOT} to see what does.")
        lines = [f"Here're the files and directories up to 2 levels deep in {where}:"]
        lines.append(f"{_size(sum(len(n.text) for n in notes))}\t{where}")
        shown: set[str] = set()
        for item in notes:
            parts = item.path[len(where) + 1 :].split("/")
            if len(parts) > 2:
                folder = f"{where}/{parts[0]}/{parts[1]}"
                if folder not in shown:
                    shown.add(folder)
                    inside = sum(len(n.text) for n in notes if n.path.startswith(folder + "/"))
                    lines.append(f"{_size(inside)}\t{folder}/")
                continue
            lines.append(f"{_size(len(item.text))}\t{item.path}")
        return "\n".join(lines)

    async def create(self, owner: str, by: str, path: str | None, file_text: str | None) -> str:
        where = note_path(path)
        await self.store.write(owner, where, file_text or "", by, new=True)
        return f"File created successfully at: {where}"

    async def str_replace(
        self, owner: str, by: str, path: str | None, old_str: str | None, new_str: str | None
    ) -> str:
        note = await self._note(owner, path)
        if not old_str:
            raise MemoryProblem("old_str is missing: give the exact text to replace.")
        count = note.text.count(old_str)
        if count == 0:
            raise MemoryProblem(
                f"No replacement was performed, old_str `{old_str}` did not appear verbatim in "
                f"{note.path}."
            )
        if count > 1:
            lines = [i + 1 for i, line in enumerate(note.text.split("\n")) if old_str in line]
            raise MemoryProblem(
                f"No replacement was performed. Multiple occurrences of old_str `{old_str}` in "
                f"lines: {lines}. Please ensure it is unique."
            )
        text = note.text.replace(old_str, new_str or "", 1)
        await self.store.write(owner, note.path, text, by)
        shown = _numbered(Note(note.path, text), None, header=False)
        return f"The memory file has been edited.\n{shown}"

    async def insert(
        self,
        owner: str,
        by: str,
        path: str | None,
        insert_line: int | None,
        insert_text: str | None,
    ) -> str:
        note = await self._note(owner, path)
        lines = note.text.split("\n") if note.text else []
        if insert_line is None or not 0 <= insert_line <= len(lines):
            raise MemoryProblem(
                f"Invalid `insert_line` parameter: {insert_line}. It should be within the range "
                f"of lines of the file: [0, {len(lines)}]."
            )
        added = (insert_text or "").removesuffix("\n").split("\n")
        text = "\n".join(lines[:insert_line] + added + lines[insert_line:])
        await self.store.write(owner, note.path, text, by)
        return f"The file {note.path} has been edited."

    async def delete(self, owner: str, path: str | None) -> str:
        where = note_path(path)
        if not await self.store.delete(owner, where):
            raise MemoryProblem(f"The path {where} does not exist. View {ROOT} to see what does.")
        return f"Successfully deleted {where}"

    async def rename(self, owner: str, old_path: str | None, new_path: str | None) -> str:
        old, new = note_path(old_path, what="old_path"), note_path(new_path, what="new_path")
        await self.store.rename(owner, old, new)
        return f"Successfully renamed {old} to {new}"

    async def _note(self, owner: str, path: str | None) -> Note:
        where = note_path(path)
        note = await self.store.get(owner, where)
        if note is None:
            raise MemoryProblem(f"The path {where} does not exist. View {ROOT} to see what does.")
        return note


def _numbered(note: Note, view_range: Sequence[int] | None, *, header: bool = True) -> str:
    lines = note.text.split("\n")
    start, end = 1, len(lines)
    if view_range:
        if len(view_range) != 2:
            raise MemoryProblem("view_range takes two numbers: [first line, last line or -1].")
        start, end = view_range[0], view_range[1] if view_range[1] != -1 else len(lines)
        if not 1 <= start <= len(lines) or not start <= end <= len(lines):
            raise MemoryProblem(
                f"Invalid view_range {list(view_range)}: {note.path} has lines 1 to {len(lines)}."
            )
    body = "\n".join(f"{n:6d}\t{lines[n - 1]}" for n in range(start, end + 1))
    return f"Here's the content of {note.path} with line numbers:\n{body}" if header else body


def _size(chars: int) -> str:
    return f"{chars / 1024:.1f}K" if chars >= 1024 else f"{chars}B"


__all__ = ["COMMANDS", "MemoryFiles"]
