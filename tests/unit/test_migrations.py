"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL.

A table, column or index added to ``bot/core/store/schema.py`` without a migration (or the
other way round) shows here as a difference, before a deployed database finds it.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.core.store.schema import declared, metadata


async def test_the_migrated_schema_is_the_declared_one(db) -> None:
    def differences(conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(conn, opts={"include_object": declared})
        return compare_metadata(context, metadata)

    async with db.engine.connect() as conn:
        found = await conn.run_sync(differences)
    assert found == []
