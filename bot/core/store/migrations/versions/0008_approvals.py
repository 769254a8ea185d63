"""Approvals: answers paused for a decision, the decisions (the audit log), and the tools a
channel always allows.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paused_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False, server_default=""),
        sa.Column("thread_ts", sa.String(40), nullable=False, server_default=""),
        sa.Column("user_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("deep", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("instructions", sa.Text, nullable=False, server_default=""),
        sa.Column("messages", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("resumed_at", sa.Float, nullable=True),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("tool_call_id", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("risk", sa.String(16), nullable=False),
        sa.Column("args", sa.Text, nullable=False, server_default="{}"),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False, server_default=""),
        sa.Column("thread_ts", sa.String(40), nullable=False, server_default=""),
        sa.Column("asker", sa.String(40), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("always", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("prompt_ts", sa.String(40), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_approvals_run_id", "approvals", ["run_id"])
    op.create_index("ix_approvals_state_expires_at", "approvals", ["state", "expires_at"])
    op.create_table(
        "tool_allowances",
        sa.Column("channel", sa.String(40), primary_key=True),
        sa.Column("tool", sa.String(200), primary_key=True),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("allowed_by", sa.String(40), nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tool_allowances")
    op.drop_index("ix_approvals_state_expires_at", table_name="approvals")
    op.drop_index("ix_approvals_run_id", table_name="approvals")
    op.drop_table("approvals")
    op.drop_table("paused_runs")
