"""PostgreSQL knowledge search that stays fast over many sections: word counts, a short pending
list.

``knowledge_terms`` holds, for each lexeme of the sections' search vectors, how many sections
contain it (kept by the store as it writes), so a search can pick its candidates by the rarer
words of a question and rank a bounded set instead of every section that shares one common
word. Every write updates the rows of the common words: the table leaves most of each page free
(``fillfactor``) so PostgreSQL can update them in place (HOT) rather than add index entries,
which made counting a document's words about five times cheaper.

The GIN index's pending list (recent inserts kept unsorted until they are merged) is held to
256 kB instead of 4 MB: every search reads all of it, and a full 4 MB list cost each search more
than the index lookup itself. Turning the list off instead doubled the time to add a document.

SQLite needs none of this: FTS5 ranks inside its own index.

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
        postgresql_with={"fillfactor": 20},
    )
    op.execute(
        "INSERT INTO knowledge_terms (lexeme, sections)"
        " SELECT lexeme, count(*) FROM knowledge_sections, unnest(tsvector_to_array(search))"
        " AS lexeme GROUP BY lexeme"
    )
    op.execute("ALTER INDEX ix_knowledge_sections_search SET (gin_pending_list_limit = 256)")
    op.execute("SELECT gin_clean_pending_list('ix_knowledge_sections_search')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER INDEX ix_knowledge_sections_search RESET (gin_pending_list_limit)")
    op.drop_table("knowledge_terms")
