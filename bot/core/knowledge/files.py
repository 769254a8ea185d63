"""Files into the knowledge base: what ``teammate knowledge add`` and the seeds load.

A folder adds every supported file under it (hidden files and folders left out); each file is
read, split and hashed in a worker thread, so a large folder never blocks the event loop of a
running bot. Every path gets an outcome a person can read: added, updated, unchanged, or
skipped and why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.knowledge.document import Document
from bot.core.knowledge.html import parse_html
from bot.core.knowledge.markdown import parse_markdown, parse_text
from bot.core.knowledge.store import KnowledgeStore

log = logging.getLogger("teammate.knowledge")

PARSERS: dict[str, Callable[[str, str], Document]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".text": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
}
SUPPORTED_NAMES = "Markdown (.md), plain text (.txt) and HTML (.html)"
MAX_BYTES = 5_000_000
SEEDS_PREFIX = "seeds/knowledge/"

Status = Literal["added", "updated", "unchanged", "skipped"]


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    status: Status
    title: str = ""
    sections: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Read:
    document: Document | None
    content_hash: str = ""
    problem: str = ""


async def add_paths(store: KnowledgeStore, paths: Iterable[str | Path]) -> list[FileOutcome]:
    """Add each file, and every supported file in each folder, by its absolute path."""
    planned = await asyncio.to_thread(_plan, [str(path) for path in paths])
    outcomes: list[FileOutcome] = []
    for item in planned:
        if isinstance(item, FileOutcome):
            outcomes.append(item)
        else:
            outcomes.append(await add_file(store, item, str(item)))
    return outcomes


async def add_file(store: KnowledgeStore, path: Path, source: str) -> FileOutcome:
    read = await asyncio.to_thread(_read, path)
    if read.document is None:
        return FileOutcome(source, "skipped", reason=read.problem)
    outcome = await store.put(source, read.content_hash, read.document)
    return FileOutcome(source, outcome, read.document.title, len(read.document.sections))


async def load_seeds(store: KnowledgeStore, folder: Path) -> list[FileOutcome]:
    """The shipped documents, as ``seeds/knowledge/<name>``: new or changed ones are stored,
    and a seed no longer shipped is removed (an admin's own documents are never touched)."""
    files = await asyncio.to_thread(_files_in, folder)
    outcomes = []
    for file in files:
        source = SEEDS_PREFIX + file.relative_to(folder).as_posix()
        outcomes.append(await add_file(store, file, source))
    shipped = {outcome.path for outcome in outcomes}
    for document in await store.documents():
        if document.source.startswith(SEEDS_PREFIX) and document.source not in shipped:
            await store.remove(document.id)
            log.info("removed the seed document %s (no longer shipped)", document.source)
    return outcomes


def _plan(paths: list[str]) -> list[FileOutcome | Path]:
    """Each path given as the files to read (absolute), or why there is nothing to read."""
    planned: list[FileOutcome | Path] = []
    for given in paths:
        path = Path(given).expanduser().resolve()
        if not path.exists():
            planned.append(FileOutcome(given, "skipped", reason="no such file or folder"))
        elif path.is_dir():
            files = _files_in(path)
            planned += files or [
                FileOutcome(given, "skipped", reason=f"no {SUPPORTED_NAMES} files in it")
            ]
        else:
            planned.append(path)
    return planned


def _files_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in PARSERS
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _read(path: Path) -> _Read:
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        kind = path.suffix or "no extension"
        return _Read(None, problem=f"not a supported file type ({kind}); {SUPPORTED_NAMES} are")
    try:
        if path.stat().st_size > MAX_BYTES:
            return _Read(None, problem=f"larger than {MAX_BYTES // 1_000_000} MB")
        data = path.read_bytes()
    except OSError as exc:
        return _Read(None, problem=f"cannot be read ({exc.strerror or exc})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _Read(None, problem="not UTF-8 text")
    document = parser(text, path.name)
    if not document.sections:
        return _Read(None, problem="no text to search in it")
    return _Read(document, hashlib.sha256(data).hexdigest())
