"""Storage through SQLAlchemy 2 async: SQLite (aiosqlite) by default, PostgreSQL (asyncpg)."""

from bot.core.store.approvals import ApprovalStore
from bot.core.store.channel_settings import ChannelSettings
from bot.core.store.claims import Claim, ClaimOutcome, ClaimStore
from bot.core.store.db import Database
from bot.core.store.reasoning import Reasoning, ReasoningStore
from bot.core.store.threads import ThreadStore
from bot.core.store.usage import UsageLog

__all__ = [
    "ApprovalStore",
    "ChannelSettings",
    "Claim",
    "ClaimOutcome",
    "ClaimStore",
    "Database",
    "Reasoning",
    "ReasoningStore",
    "ThreadStore",
    "UsageLog",
]
