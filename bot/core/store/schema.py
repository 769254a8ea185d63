"""Tables. Times are UTC epoch seconds (floats), the same on SQLite and PostgreSQL.

Changes to these tables go through a new migration in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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


class ChannelSettingsRow(Base):
    """What a channel chose for itself (``/teammate deep on``); a channel without a row has
    the defaults. A DM's row belongs to that conversation."""

    __tablename__ = "channel_settings"

    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    deep: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[float] = mapped_column(Float)


class ReasoningRow(Base):
    """An answer's reasoning summary, opened on request ("Show reasoning") by whoever clicks.

    ``id`` is what the answer's button carries; ``message_ts`` is the message it is on, once
    posted. ``text`` is already cut to what one modal shows (``cut`` says it was).
    """

    __tablename__ = "reasoning"
    __table_args__ = (Index("ix_reasoning_channel_message_ts", "channel", "message_ts"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(40))
    thread_ts: Mapped[str] = mapped_column(String(40), default="")
    message_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    model: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    cut: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float, index=True)


class MemoryNoteRow(Base):
    """One note of a memory, a file under ``/memories``. ``owner`` is whose memory it is: a
    channel (shared by its threads) or, in direct messages, a person (see bot.core.memory)."""

    __tablename__ = "memory_notes"

    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)


class MemoryPermissionRow(Base):
    """An admin's decision on a channel shared with another organisation: memory allowed or
    not (no row: not allowed)."""

    __tablename__ = "memory_permissions"

    team_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(String(40), default="")
    decided_at: Mapped[float] = mapped_column(Float)


class PausedRunRow(Base):
    """An answer paused until its tool calls are approved or denied: plain data, so any process
    (after a restart too) can resume it. ``messages`` is the run so far (pydantic-ai's messages
    as JSON), ``scope`` where it happens (JSON); ``state`` goes paused → resumed once."""

    __tablename__ = "paused_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(40), default="")
    thread_ts: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[str] = mapped_column(String(40), default="")
    scope: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    deep: Mapped[bool] = mapped_column(Boolean, default=False)
    instructions: Mapped[str] = mapped_column(Text, default="")
    messages: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    resumed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    origin: Mapped[str] = mapped_column(String(200), default="")
    """The durable run that paused (its workflow id; empty outside one): its resume waits for
    it to end, so a replay of it after a crash draws before the part after the decision."""


class ApprovalRow(Base):
    """One tool call waiting for (or given) a decision; kept as the audit log of decisions:
    who decided, when, the tool, its arguments, the channel and the outcome.

    ``state`` is pending, then approved, denied or expired, set once by a conditional update.
    """

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_state_expires_at", "state", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    tool_call_id: Mapped[str] = mapped_column(String(200))
    tool: Mapped[str] = mapped_column(String(200))
    risk: Mapped[str] = mapped_column(String(16))
    args: Mapped[str] = mapped_column(Text, default="{}")
    team_id: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(40), default="")
    thread_ts: Mapped[str] = mapped_column(String(40), default="")
    asker: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(16))
    always: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class ToolAllowanceRow(Base):
    """A tool someone chose to "always allow" in one channel: its calls there ask no more."""

    __tablename__ = "tool_allowances"

    channel: Mapped[str] = mapped_column(String(40), primary_key=True)
    tool: Mapped[str] = mapped_column(String(200), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    allowed_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[float] = mapped_column(Float)


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


class TaskRow(Base):
    """A goal handed over with ``/task``: worked in the thread of its card (``card_ts``) within
    its budgets. ``state`` is queued, running, done, stopped or failed; ``plan`` is the
    checklist the agent keeps (JSON: ``[{title, status}]``); ``stop_reason`` names the limit or
    the cancel that stopped it; ``error_reference`` matches the log line of a failure.
    ``stop_requested`` is a Stop or cancel from any process, read before each model request;
    ``started_at`` is when the work began (the time budget counts from it, across restarts)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_channel_card_ts", "channel", "card_ts"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    short_id: Mapped[str] = mapped_column(String(12), index=True, unique=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(40), index=True)
    card_ts: Mapped[str | None] = mapped_column(String(40), nullable=True)
    requester: Mapped[str] = mapped_column(String(40), index=True)
    goal: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    max_minutes: Mapped[float] = mapped_column(Float)
    max_tokens: Mapped[int] = mapped_column(Integer)
    max_cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_used: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan: Mapped[str] = mapped_column(Text, default="[]")
    stop_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error_reference: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    stop_requested: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class TaskSteeringRow(Base):
    """A reply in a running task's thread, for its next model request (``taken_at`` once the
    run has it). One row per message: a Slack retry of the same reply adds nothing."""

    __tablename__ = "task_steering"
    __table_args__ = (UniqueConstraint("task_id", "message_ts", name="uq_task_steering_task_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(40), index=True)
    user_id: Mapped[str] = mapped_column(String(40))
    message_ts: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class ScheduleRow(Base):
    """A recurring task (``/task every ...``): ``text`` is the task as asked (options and goal),
    run in ``channel`` for ``creator`` at each slot of ``rule`` (bot.core.tasks.recurrence) in
    the time zone ``tz``; spans count from ``anchor_at``. ``next_at`` is the slot to run next;
    a cancelled schedule keeps its row (``cancelled_at``) and runs no more."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    short_id: Mapped[str] = mapped_column(String(12), index=True, unique=True)
    team_id: Mapped[str] = mapped_column(String(40), default="")
    channel: Mapped[str] = mapped_column(String(40), index=True)
    creator: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(40))
    tz: Mapped[str] = mapped_column(String(64))
    anchor_at: Mapped[float] = mapped_column(Float)
    next_at: Mapped[float] = mapped_column(Float, index=True)
    created_at: Mapped[float] = mapped_column(Float)
    cancelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ScheduleRunRow(Base):
    """One slot of a schedule, claimed by the process that inserted it first (the primary key
    is the slot: no second row, so no second run, from any replica). ``state`` is running
    (claimed, its task not yet started), done (its task started), skipped (the previous run
    still worked), refused (``note`` says why: not in the channel, a budget over the caps) or
    failed."""

    __tablename__ = "schedule_runs"

    schedule_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """The slot as UTC epoch seconds."""
    owner: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


SEARCH_INDEX_OBJECTS = {
    ("table", "knowledge_fts"),
    ("column", "search"),
    ("index", "ix_knowledge_sections_search"),
    ("table", "knowledge_terms"),
}
"""The full-text index objects migrations 0005 and 0009 make that SQLAlchemy cannot declare, or
make on one database only: SQLite's FTS5 virtual table (and the shadow tables FTS5 keeps beside
it), PostgreSQL's generated ``tsvector`` column, its GIN index, and the count of sections per
lexeme (``knowledge_terms``) that PostgreSQL's search picks its candidates by."""


def declared(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: compare everything but the full-text index objects."""
    if type_ == "table" and name and name.startswith("knowledge_fts"):
        return False
    return (type_, name) not in SEARCH_INDEX_OBJECTS
