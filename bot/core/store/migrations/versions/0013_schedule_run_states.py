"""Schedule runs by state: every tick looks for slots claimed whose task never started (their
process died between the claim and the card), among a row per slot ever run.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_schedule_runs_state", "schedule_runs", ["state"])


def downgrade() -> None:
    op.drop_index("ix_schedule_runs_state", table_name="schedule_runs")
