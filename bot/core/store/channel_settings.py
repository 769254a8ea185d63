"""What each channel chose for itself, such as deep mode for every answer there.

One row per channel, written by ``/teammate deep on|off``; a channel that never chose has the
defaults, with no row.
"""

from __future__ import annotations

import time

from sqlalchemy.dialects import postgresql, sqlite

from bot.core.store.db import Database
from bot.core.store.schema import ChannelSettingsRow


class ChannelSettings:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def deep(self, channel: str) -> bool:
        """Whether answers in ``channel`` think longer unless asked otherwise (answers asking
        at the same moment share the one read)."""
        return await self.db.shared_read(("deep", channel), lambda: self._deep(channel))

    async def _deep(self, channel: str) -> bool:
        async with self.db.sessions() as session:
            row = await session.get(ChannelSettingsRow, channel)
        return bool(row is not None and row.deep)

    async def set_deep(self, channel: str, on: bool, team_id: str = "", user: str = "") -> None:
        insert = (postgresql.insert if not self.db.is_sqlite else sqlite.insert)(ChannelSettingsRow)
        values = {"deep": on, "updated_by": user, "updated_at": time.time()}
        statement = insert.values(channel=channel, team_id=team_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["channel"], set_=values)
        async with self.db.write() as session:
            await session.execute(statement)
