"""A memory per channel: its notes, and admins' decisions on memory in shared channels.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memory_notes",
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_by", sa.String(40), nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("owner", "path", name="pk_memory_notes"),
    )
    op.create_table(
        "memory_permissions",
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("decided_by", sa.String(40), nullable=False, server_default=""),
        sa.Column("decided_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel", name="pk_memory_permissions"),
    )


def downgrade() -> None:
    op.drop_table("memory_permissions")
    op.drop_table("memory_notes")
