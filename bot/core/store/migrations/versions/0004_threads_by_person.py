"""The Home tab lists a person's latest threads: index them by who started them.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_threads_started_by_created_at", "threads", ["started_by", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_threads_started_by_created_at", table_name="threads")
