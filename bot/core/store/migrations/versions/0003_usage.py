"""Usage is recorded by the core, per answer and scope; the Slack-side reply log goes.

Each answer's model, tokens, cost, outcome and reference id now live in ``usage`` with the
scope they were spent in (team, channel and its kind, thread, person). The messages an answer
posted are the claim's business (``claims.reply_ts``), so ``replies`` is folded into ``usage``
and dropped.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel_kind", sa.String(16), nullable=False, server_default=""),
        sa.Column("thread_ts", sa.String(40), nullable=False, server_default=""),
        sa.Column("user_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("model", sa.String(100), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("reference", sa.String(20), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_usage_created_at", "usage", ["created_at"])
    op.create_index("ix_usage_team_id", "usage", ["team_id"])
    op.execute(
        "INSERT INTO usage (team_id, channel, channel_kind, thread_ts, user_id, model, status,"
        " input_tokens, output_tokens, cost_usd, reference, created_at)"
        " SELECT team_id, channel, '', thread_ts, user_id, model, status, input_tokens,"
        " output_tokens, cost_usd, error_ref, created_at FROM replies"
    )
    op.drop_table("replies")


def downgrade() -> None:
    op.create_table(
        "replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("claim_key", sa.String(200), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("thread_ts", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("reply_ts", sa.Text, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("error_ref", sa.String(20), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.drop_table("usage")
