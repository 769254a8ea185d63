"""Shared fixtures: databases (SQLite and PostgreSQL), the Slack sandbox, fake model servers
and the real bot wired between them over HTTP."""

from __future__ import annotations

import contextlib
import os

import pytest

from bot.testkit.databases import POSTGRES_ADMIN_URL, fresh_postgres, fresh_sqlite

_OWN_ENVIRONMENT = ("TEAMMATE_", "SLACK_", "ANTHROPIC_", "OPENAI_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests set every setting they need; none leaks in from the shell running them."""
    for name in list(os.environ):
        if name.startswith(_OWN_ENVIRONMENT) and name != "TEAMMATE_TEST_POSTGRES":
            monkeypatch.delenv(name)


def sqlite_database(path):
    return fresh_sqlite(path)


@contextlib.asynccontextmanager
async def postgres_database():
    """A fresh PostgreSQL database, dropped afterwards."""
    async with fresh_postgres(POSTGRES_ADMIN_URL) as (db, unreachable):
        if db is None:
            if os.environ.get("CI"):
                raise unreachable
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {unreachable}")
        yield db


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request, tmp_path):
    """The same test on both supported databases."""
    opener = sqlite_database(tmp_path) if request.param == "sqlite" else postgres_database()
    async with opener as database:
        yield database
