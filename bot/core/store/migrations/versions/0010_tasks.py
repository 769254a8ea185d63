"""Tasks: goals handed to Teammate with ``/task``, each worked in the thread of its card.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("short_id", sa.String(12), nullable=False),
        sa.Column("team_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("card_ts", sa.String(40), nullable=True),
        sa.Column("requester", sa.String(40), nullable=False),
        sa.Column("goal", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("max_minutes", sa.Float, nullable=False),
        sa.Column("max_tokens", sa.Integer, nullable=False),
        sa.Column("max_cost_usd", sa.Float, nullable=True),
        sa.Column("tokens_used", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float, nullable=True),
        sa.Column("plan", sa.Text, nullable=False, server_default="[]"),
        sa.Column("stop_reason", sa.String(200), nullable=True),
        sa.Column("error_reference", sa.String(40), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_tasks_short_id", "tasks", ["short_id"], unique=True)
    op.create_index("ix_tasks_channel", "tasks", ["channel"])
    op.create_index("ix_tasks_requester", "tasks", ["requester"])


def downgrade() -> None:
    op.drop_index("ix_tasks_requester", table_name="tasks")
    op.drop_index("ix_tasks_channel", table_name="tasks")
    op.drop_index("ix_tasks_short_id", table_name="tasks")
    op.drop_table("tasks")
