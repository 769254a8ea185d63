"""Schedules: recurring tasks (``/task every ...``) and the slots they ran, one row a slot.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("short_id", sa.String(12), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("creator", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("anchor_at", sa.Float, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("cancelled_at", sa.Float, nullable=True),
        sa.Column("cancelled_by", sa.String(40), nullable=True),
    )
    op.create_index("ix_schedules_short_id", "schedules", ["short_id"], unique=True)
    op.create_index("ix_schedules_channel", "schedules", ["channel"])
    op.create_index("ix_schedules_next_at", "schedules", ["next_at"])
    op.create_table(
        "schedule_runs",
        sa.Column(
            "schedule_id",
            sa.String(40),
            sa.ForeignKey("schedules.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("slot", sa.BigInteger, primary_key=True),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("claimed_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("schedule_runs")
    op.drop_index("ix_schedules_next_at", table_name="schedules")
    op.drop_index("ix_schedules_channel", table_name="schedules")
    op.drop_index("ix_schedules_short_id", table_name="schedules")
    op.drop_table("schedules")
