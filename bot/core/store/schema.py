"""Tables. Times are UTC epoch seconds (floats), the same on SQLite and PostgreSQL.

Changes to these tables go through a new migration in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata


class ClaimRow(Base):
    """One unit of inbound work (an event, a command, a click), claimed by one process.

    ``state`` is running or done; a running claim whose ``lease_until`` has passed may be taken
    over by a retry. ``reply_ts`` lists the messages the current answer has posted so far (JSON),
    so a take-over can replace a half-written answer instead of leaving it beside a new one.
    """

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    lease_until: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    reply_channel: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reply_ts: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[float] = mapped_column(Float, index=True)
    updated_at: Mapped[float] = mapped_column(Float)


class ThreadRow(Base):
    """A Slack thread Teammate takes part in; follow-ups there need no new mention.

    ``since_ts`` is the message Teammate was first asked in: only later messages follow up.
    """

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_started_by_created_at", "started_by", "created_at"),)

    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(40), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    started_by: Mapped[str] = mapped_column(String(40), default="")
    since_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class UsageRow(Base):
    """One answer's spend: where (the scope), which model, tokens, cost, and how it ended."""

    __tablename__ = "usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(40), default="", index=True)
    channel: Mapped[str] = mapped_column(String(40), default="")
    channel_kind: Mapped[str] = mapped_column(String(16), default="")
    thread_ts: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[str] = mapped_column(String(40), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    reference: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)


class KnowledgeDocumentRow(Base):
    """A document of the team's knowledge: where it came from and what it held when added.

    ``source`` is its path (or ``seeds/knowledge/…`` for the shipped ones); ``url`` a link to
    it when it names one. ``content_hash`` (SHA-256 of its bytes) lets a re-add of an unchanged
    file do nothing.
    """

    __tablename__ = "knowledge_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(1000), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    sections: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class KnowledgeSectionRow(Base):
    """One section of a document, under its heading: what a search finds and cites.

    ``title`` repeats the document's title because the search index is built from one row
    alone (PostgreSQL's generated ``tsvector`` column cannot read another table; SQLite's FTS5
    table ``knowledge_fts`` holds the same three fields, keyed by this row's id). Both are made
    by migration 0005 and left out of the declared schema (:func:`declared`).
    """

    __tablename__ = "knowledge_sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    heading: Mapped[str] = mapped_column(String(500))
    anchor: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)


SEARCH_INDEX_OBJECTS = {
    ("table", "knowledge_fts"),
    ("column", "search"),
    ("index", "ix_knowledge_sections_search"),
}
"""The full-text index objects migration 0005 makes that SQLAlchemy cannot declare: SQLite's
FTS5 virtual table (and the shadow tables FTS5 keeps beside it), PostgreSQL's generated
``tsvector`` column and its GIN index."""


def declared(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: compare everything but the full-text index objects."""
    if type_ == "table" and name and name.startswith("knowledge_fts"):
        return False
    return (type_, name) not in SEARCH_INDEX_OBJECTS
