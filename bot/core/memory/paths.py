"""Where a note may live and how big a memory may grow, with errors the model can act on.

Paths are Anthropic's memory tool's: absolute, under ``/memories``. Each is made canonical
here (one slash between parts, no trailing slash) so ``/memories//a.md`` and ``/memories/a.md``
name the same note, and anything that could step outside (``..``, ``.``, a backslash, control
characters) is refused before it reaches the store.
"""

from __future__ import annotations

ROOT = "/memories"
MAX_PATH_CHARS = 200
MAX_NOTE_CHARS = 10_000
"""Characters of one note (about 2,500 tokens): a note is a page of decisions, not a dump."""
MAX_NOTES = 100
"""Notes in one memory (a channel's, or a person's in direct messages)."""


class MemoryProblem(ValueError):
    """A memory command that cannot be done; the message says why and what to do instead."""


def canonical(path: str | None, *, what: str = "path") -> str:
    """``path`` in its one written form, or :class:`MemoryProblem` when it is not allowed."""
    if not path or not path.strip():
        raise MemoryProblem(
            f"The {what} is missing: give a path under {ROOT}, like {ROOT}/notes.md."
        )
    raw = path.strip()
    if len(raw) > MAX_PATH_CHARS:
        raise MemoryProblem(f"The {what} is longer than {MAX_PATH_CHARS} characters.")
    if "\\" in raw or any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise MemoryProblem(f"The {what} {raw!r} has characters a note's path cannot have.")
    parts = [part for part in raw.split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise MemoryProblem(f"The {what} {raw!r} may not contain '.' or '..' parts.")
    if not raw.startswith("/") or parts[:1] != [ROOT.lstrip("/")]:
        raise MemoryProblem(f"The {what} {raw!r} is not under {ROOT}: every note lives there.")
    return "/" + "/".join(parts)


def note_path(path: str | None, *, what: str = "path") -> str:
    """A canonical path that can name a note (not the root itself)."""
    clean = canonical(path, what=what)
    if clean == ROOT:
        raise MemoryProblem(
            f"{ROOT} is the memory's folder; name a note in it, like {ROOT}/notes.md."
        )
    return clean


def is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or inside it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_size(path: str, text: str) -> None:
    if len(text) > MAX_NOTE_CHARS:
        raise MemoryProblem(
            f"{path} would be {len(text):,} characters; a note holds at most {MAX_NOTE_CHARS:,}. "
            "Keep it shorter or split it into several notes."
        )
