"""The notes of every memory, and admins' decisions on shared channels, in the database.

One row per note, keyed by its memory's owner and its path, so notes survive restarts and every
replica reads the same ones. The limits (size of a note, notes per memory) are checked here, in
the transaction that writes, so two threads saving at once cannot both slip past them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.memory.paths import MAX_NOTES, MemoryProblem, check_size, is_within
from bot.core.store.db import Database
from bot.core.store.schema import MemoryNoteRow, MemoryPermissionRow


@dataclass(frozen=True, slots=True)
class Note:
    path: str
    text: str
    updated_by: str = ""
    updated_at: float = 0.0


class MemoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def notes(self, owner: str, folder: str = "/memories") -> list[Note]:
        """The notes in ``folder`` (and below), by path."""
        query = select(MemoryNoteRow).where(MemoryNoteRow.owner == owner)
        if folder != "/memories":
            query = query.where(
                (MemoryNoteRow.path == folder)
                | MemoryNoteRow.path.startswith(folder + "/", autoescape=True)
            )
        async with self.db.sessions() as session:
            rows = (await session.scalars(query.order_by(MemoryNoteRow.path))).all()
        return [_note(row) for row in rows]

    async def paths(self, owner: str) -> list[str]:
        """Every note's path, in order: read from the primary key's index alone (answers in
        one channel at the same moment share the one read)."""
        return await self.db.shared_read(("note paths", owner), lambda: self._paths(owner))

    async def _paths(self, owner: str) -> list[str]:
        query = select(MemoryNoteRow.path).where(MemoryNoteRow.owner == owner)
        async with self.db.sessions() as session:
            return list((await session.scalars(query.order_by(MemoryNoteRow.path))).all())

    async def newest(self, owner: str, chars: int) -> list[Note]:
        """Every note, newest first, its text cut to ``chars`` by the database (a full
        memory is a megabyte; a prompt takes a few thousand characters of it). Answers in
        one channel at the same moment share the one read."""
        return await self.db.shared_read(
            ("newest notes", owner, chars), lambda: self._newest(owner, chars)
        )

    async def _newest(self, owner: str, chars: int) -> list[Note]:
        query = (
            select(
                MemoryNoteRow.path,
                func.substr(MemoryNoteRow.text, 1, chars),
                MemoryNoteRow.updated_by,
                MemoryNoteRow.updated_at,
            )
            .where(MemoryNoteRow.owner == owner)
            .order_by(MemoryNoteRow.updated_at.desc(), MemoryNoteRow.path)
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(query)).all()
        return [Note(path, text, by, at) for path, text, by, at in rows]

    async def get(self, owner: str, path: str) -> Note | None:
        async with self.db.sessions() as session:
            row = await session.get(MemoryNoteRow, (owner, path))
        return _note(row) if row is not None else None

    async def write(self, owner: str, path: str, text: str, by: str, *, new: bool = False) -> None:
        """Save ``text`` as the note ``path``; with ``new``, the note must not exist yet."""
        check_size(path, text)
        now = time.time()
        async with self.db.write() as session:
            row = await session.get(MemoryNoteRow, (owner, path), with_for_update=True)
            if row is not None:
                if new:
                    raise MemoryProblem(
                        f"{path} already exists: view it and edit it with str_replace or "
                        "insert, or delete it first."
                    )
                row.text, row.updated_by, row.updated_at = text, by, now
                return
            await self._check_room(session, owner, path)
            session.add(
                MemoryNoteRow(
                    owner=owner,
                    path=path,
                    text=text,
                    updated_by=by,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def delete(self, owner: str, path: str) -> int:
        """Delete the note ``path``, or every note in the folder ``path``; how many went."""
        async with self.db.write() as session:
            result = await session.execute(
                delete(MemoryNoteRow).where(
                    MemoryNoteRow.owner == owner,
                    (MemoryNoteRow.path == path)
                    | MemoryNoteRow.path.startswith(path + "/", autoescape=True),
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def rename(self, owner: str, old: str, new: str) -> int:
        """Move the note (or folder) ``old`` to ``new``; how many notes moved."""
        if is_within(new, old):
            raise MemoryProblem(f"{new} is inside {old}: a folder cannot move into itself.")
        async with self.db.write() as session:
            rows = (
                await session.scalars(
                    select(MemoryNoteRow).where(
                        MemoryNoteRow.owner == owner,
                        (MemoryNoteRow.path == old)
                        | MemoryNoteRow.path.startswith(old + "/", autoescape=True),
                    )
                )
            ).all()
            if not rows:
                raise MemoryProblem(
                    f"{old} does not exist. View {old.rsplit('/', 1)[0]} to see what does."
                )
            taken = await session.scalar(
                select(func.count())
                .select_from(MemoryNoteRow)
                .where(
                    MemoryNoteRow.owner == owner,
                    (MemoryNoteRow.path == new)
                    | MemoryNoteRow.path.startswith(new + "/", autoescape=True),
                )
            )
            if taken:
                raise MemoryProblem(
                    f"{new} already exists: choose another name or delete it first."
                )
            now = time.time()
            moved = [
                MemoryNoteRow(
                    owner=owner,
                    path=new + row.path[len(old) :],
                    text=row.text,
                    updated_by=row.updated_by,
                    created_at=row.created_at,
                    updated_at=now,
                )
                for row in rows
            ]
            for row in rows:
                await session.delete(row)
            await session.flush()
            session.add_all(moved)
        return len(moved)

    async def clear(self, owner: str) -> int:
        """Delete every note of this memory."""
        async with self.db.write() as session:
            result = await session.execute(
                delete(MemoryNoteRow).where(MemoryNoteRow.owner == owner)
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def allowed(self, team_id: str, channel: str) -> bool:
        """Whether an admin allowed memory in this shared channel."""
        async with self.db.sessions() as session:
            row = await session.get(MemoryPermissionRow, (team_id, channel))
        return bool(row is not None and row.allowed)

    async def decide(self, team_id: str, channel: str, allowed: bool, by: str) -> None:
        """Record an admin's decision on memory in this shared channel."""
        values = {"allowed": allowed, "decided_by": by, "decided_at": time.time()}
        insert = (sqlite.insert if self.db.is_sqlite else postgresql.insert)(MemoryPermissionRow)
        statement = insert.values(team_id=team_id, channel=channel, **values).on_conflict_do_update(
            index_elements=["team_id", "channel"], set_=values
        )
        async with self.db.write() as session:
            await session.execute(statement)

    @staticmethod
    async def _check_room(session: AsyncSession, owner: str, path: str) -> None:
        count = await session.scalar(
            select(func.count()).select_from(MemoryNoteRow).where(MemoryNoteRow.owner == owner)
        )
        if (count or 0) >= MAX_NOTES:
            raise MemoryProblem(
                f"This memory already holds {MAX_NOTES} notes, the most it may: merge or delete "
                f"some before creating {path}."
            )
        parts = path.split("/")
        folders = ["/".join(parts[:i]) for i in range(3, len(parts))]
        parent = await session.scalar(
            select(MemoryNoteRow.path).where(
                MemoryNoteRow.owner == owner, MemoryNoteRow.path.in_(folders)
            )
        )
        if parent is not None:
            raise MemoryProblem(f"{parent} is a note, not a folder: {path} cannot go in it.")
        below = await session.scalar(
            select(func.count())
            .select_from(MemoryNoteRow)
            .where(
                MemoryNoteRow.owner == owner,
                MemoryNoteRow.path.startswith(path + "/", autoescape=True),
            )
        )
        if below:
            raise MemoryProblem(f"{path} is a folder of notes; name a note inside it.")


def _note(row: MemoryNoteRow) -> Note:
    return Note(row.path, row.text, row.updated_by, row.updated_at)
