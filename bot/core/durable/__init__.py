"""Durable runs: answers (and later tasks) as DBOS workflows that survive a crash."""

from bot.core.durable.engine import DurableEngine, system_database_url

__all__ = ["DurableEngine", "system_database_url"]
