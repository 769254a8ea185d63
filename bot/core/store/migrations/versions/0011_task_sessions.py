"""Task sessions: a stop request any process can make, the stored start of the work, and the
replies that steer a running task.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("stop_requested", sa.String(200), nullable=True))
        batch.add_column(sa.Column("started_at", sa.Float, nullable=True))
    op.create_index("ix_tasks_channel_card_ts", "tasks", ["channel", "card_ts"])
    op.create_table(
        "task_steering",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("message_ts", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("taken_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("task_id", "message_ts", name="uq_task_steering_task_id"),
    )
    op.create_index("ix_task_steering_task_id", "task_steering", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_steering_task_id", table_name="task_steering")
    op.drop_table("task_steering")
    op.drop_index("ix_tasks_channel_card_ts", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("started_at")
        batch.drop_column("stop_requested")
