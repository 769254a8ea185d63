"""Deep mode: a channel's own default (``/teammate deep on``), and each answer's reasoning
summary, kept for its "Show reasoning" button.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_settings",
        sa.Column("channel", sa.String(40), primary_key=True),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("deep", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_by", sa.String(40), nullable=False, server_default=""),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "reasoning",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("thread_ts", sa.String(40), nullable=False, server_default=""),
        sa.Column("message_ts", sa.String(40), nullable=True),
        sa.Column("model", sa.String(100), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("cut", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_reasoning_created_at", "reasoning", ["created_at"])
    op.create_index("ix_reasoning_channel_message_ts", "reasoning", ["channel", "message_ts"])


def downgrade() -> None:
    op.drop_table("reasoning")
    op.drop_table("channel_settings")
