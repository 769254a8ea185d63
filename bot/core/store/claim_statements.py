"""The two statements every request costs, written once per dialect.

Claiming a request and marking it done run for every event, command and click, and on an
acknowledging replica they are most of what the process does. Built with SQLAlchemy's
``insert().values([...]).on_conflict_do_nothing()`` and ``update().where(key.in_(...))``,
each batch was compiled again (SQLAlchemy does not cache a dialect insert, and a VALUES list
changes shape with the batch's size), which cost about three times the statement's own
round trip. These take the batch as one array (PostgreSQL's ``unnest``, SQLite's
``json_each``), so each is one fixed text that SQLAlchemy compiles once and asyncpg prepares
once, whatever the batch's size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, text

_COLUMNS = "key, owner, state, lease_until, attempts, reply_ts, created_at, updated_at"

_INSERT = {
    "postgresql": text(
        f"INSERT INTO claims ({_COLUMNS}) "
        "SELECT k, :owner, :state, l, 1, '[]', c, c "
        "FROM unnest(CAST(:keys AS varchar[]), CAST(:leases AS float8[]), "
        "CAST(:created AS float8[])) AS rows(k, l, c) "
        "ON CONFLICT (key) DO NOTHING RETURNING key"
    ),
    # WHERE true: without it SQLite reads ON CONFLICT as part of the SELECT's join;
    # json_extract, not ->> (SQLite 3.38), so any SQLite with RETURNING (3.35) serves
    "sqlite": text(
        f"INSERT INTO claims ({_COLUMNS}) "
        "SELECT json_extract(value, '$[0]'), :owner, :state, json_extract(value, '$[1]'), 1, "
        "'[]', json_extract(value, '$[2]'), json_extract(value, '$[2]') "
        "FROM json_each(:rows) WHERE true "
        "ON CONFLICT (key) DO NOTHING RETURNING key"
    ),
}

_FINISH = {
    "postgresql": text(
        "UPDATE claims SET state = :state, updated_at = :now "
        "WHERE owner = :owner AND key = ANY(CAST(:keys AS varchar[]))"
    ),
    "sqlite": text(
        "UPDATE claims SET state = :state, updated_at = :now "
        "WHERE owner = :owner AND key IN (SELECT value FROM json_each(:keys))"
    ),
}


def insert_new(
    dialect: str, owner: str, state: str, rows: Sequence[tuple[str, float, float]]
) -> tuple[TextClause, dict[str, Any]]:
    """INSERT each (key, lease_until, created_at) not claimed yet; RETURNING the keys it
    inserted."""
    if dialect == "sqlite":
        return _INSERT[dialect], {"owner": owner, "state": state, "rows": json.dumps(rows)}
    keys, leases, created = (list(column) for column in zip(*rows, strict=True))
    return _INSERT[dialect], {
        "owner": owner,
        "state": state,
        "keys": keys,
        "leases": leases,
        "created": created,
    }


def finish(
    dialect: str, owner: str, state: str, keys: Sequence[str], now: float
) -> tuple[TextClause, dict[str, Any]]:
    """UPDATE ``owner``'s claims among ``keys`` to ``state``."""
    listed: Any = json.dumps(list(keys)) if dialect == "sqlite" else list(keys)
    return _FINISH[dialect], {"owner": owner, "state": state, "now": now, "keys": listed}
