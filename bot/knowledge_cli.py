"""`teammate knowledge add | list | remove`: the team's documents, from the command line.

Works on the database the bot uses (``TEAMMATE_DATABASE_URL``, SQLite by default), migrated
and with the shipped seeds loaded first, so ``list`` shows what answers can search even before
the bot has started. Output is one line per document; a failure is one line and exit status 1
(nothing to add, no such document) or 2 (the database cannot be opened).
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.core.knowledge import DocumentInfo, FileOutcome, KnowledgeStore, add_paths, load_seeds
from bot.core.knowledge.files import SEEDS_PREFIX
from bot.core.redact import redact
from bot.core.store import Database
from bot.settings import Settings


class CommandFailed(Exception):
    """One line for the person at the terminal, and the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


async def run_knowledge(settings: Settings, action: str, values: Sequence[str]) -> int:
    db = Database(settings.resolved_database_url)
    try:
        try:
            await db.migrate()
            store = KnowledgeStore(db)
            await load_seeds(store, settings.seeds_dir / "knowledge")
        except (OSError, SQLAlchemyError) as exc:
            detail = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise CommandFailed(
                f"cannot open the database ({detail}): check TEAMMATE_DATABASE_URL", status=2
            ) from None
        if action == "add":
            return _print_added(await add_paths(store, values))
        if action == "list":
            return _print_list(await store.documents())
        return await _remove(store, values[0])
    finally:
        await db.close()


def _print_added(outcomes: list[FileOutcome]) -> int:
    for outcome in outcomes:
        if outcome.status == "skipped":
            print(f"skipped    {outcome.path}: {outcome.reason}")
        elif outcome.status == "unchanged":
            print(f"unchanged  {outcome.path}: already added, and the file has not changed")
        else:
            count = _sections(outcome.sections)
            print(f"{outcome.status:<10} {outcome.path}: “{outcome.title}”, {count}")
    stored = [o for o in outcomes if o.status != "skipped"]
    return 0 if stored else 1


def _print_list(documents: list[DocumentInfo]) -> int:
    if not documents:
        print("No documents yet: add some with `teammate knowledge add PATH…`.")
        return 0
    rows = [("ID", "TITLE", "SOURCE", "SECTIONS", "ADDED")]
    rows += [
        (
            str(doc.id),
            doc.title,
            doc.url or doc.source,
            str(doc.sections),
            datetime.datetime.fromtimestamp(doc.added_at).strftime("%Y-%m-%d %H:%M"),
        )
        for doc in documents
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[4]
        )
    return 0


async def _remove(store: KnowledgeStore, wanted: str) -> int:
    document = await store.find(wanted)
    if document is None:
        resolved = await asyncio.to_thread(_resolved, wanted)
        document = await store.find(resolved) if resolved else None
    if document is None:
        raise CommandFailed(
            f"no document has the id or source {wanted!r}: `teammate knowledge list` shows them"
        )
    await store.remove(document.id)
    note = ""
    if document.source.startswith(SEEDS_PREFIX):
        note = " (it ships with Teammate, so it is loaded again at the next start)"
    print(f"removed    {document.source}: “{document.title}”, {_sections(document.sections)}{note}")
    return 0


def _resolved(path: str) -> str | None:
    """The absolute path a source was stored under, when ``path`` names an existing file."""
    return str(Path(path).resolve()) if os.path.exists(path) else None


def _sections(count: int) -> str:
    return f"{count} section{'s' if count != 1 else ''}"
