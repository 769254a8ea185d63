"""PostgreSQL knowledge search that stays fast over many sections: term counts, no pending list.

``knowledge_terms`` holds, for each lexeme of the sections' search vectors, how many sections
contain it (kept by the store as it writes), so a search can pick its candidates by the rarer
words of a question and rank a bounded set instead of every section that shares one common
word. The GIN index stops using its pending list (``fastupdate``): with it, every search read
the whole unsorted list of recent inserts (up to 4 MB), which cost more than the index itself.
SQLite needs neither: FTS5 ranks inside its own index.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.create_table(
        "knowledge_terms",
        sa.Column("lexeme", sa.Text, primary_key=True),
        sa.Column("sections", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO knowledge_terms (lexeme, sections)"
        " SELECT lexeme, count(*) FROM knowledge_sections, unnest(tsvector_to_array(search))"
        " AS lexeme GROUP BY lexeme"
    )
    op.execute("ALTER INDEX ix_knowledge_sections_search SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_knowledge_sections_search')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER INDEX ix_knowledge_sections_search RESET (fastupdate)")
    op.drop_table("knowledge_terms")
