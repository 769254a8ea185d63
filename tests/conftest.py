"""Shared fixtures: databases (SQLite and PostgreSQL), the Slack sandbox, fake model servers
and the real bot wired between them over HTTP."""

from __future__ import annotations

import contextlib
import os
import uuid

import asyncpg
import pytest

from bot.core.store import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "TEAMMATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


_OWN_ENVIRONMENT = ("TEAMMATE_", "SLACK_", "ANTHROPIC_", "OPENAI_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests set every setting they need; none leaks in from the shell running them."""
    for name in list(os.environ):
        if name.startswith(_OWN_ENVIRONMENT) and name != "TEAMMATE_TEST_POSTGRES":
            monkeypatch.delenv(name)


@contextlib.asynccontextmanager
async def sqlite_database(path):
    db = Database(f"sqlite+aiosqlite:///{path / 'teammate.db'}")
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


@contextlib.asynccontextmanager
async def postgres_database():
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"teammate_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    db = Database(f"{base}/{name}")
    try:
        await db.migrate()
        yield db
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request, tmp_path):
    """The same test on both supported databases."""
    opener = sqlite_database(tmp_path) if request.param == "sqlite" else postgres_database()
    async with opener as database:
        yield database
