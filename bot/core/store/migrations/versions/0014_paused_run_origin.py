"""Paused runs name the durable run that paused: the part after the decision waits for that
run to end (a replay of it after a crash draws its part of the answer first).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("paused_runs") as batch:
        batch.add_column(sa.Column("origin", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("paused_runs") as batch:
        batch.drop_column("origin")
