"""The team's knowledge: documents, their sections, and a full-text index the database ranks.

SQLite gets an FTS5 table (``porter unicode61``: English stems, any script's words) keyed by the
section's id, with bm25 weights set once as its default rank (heading 4, document title 2,
body 1), so ``ORDER BY rank LIMIT n`` stays inside FTS5. PostgreSQL gets a generated, weighted
``tsvector`` column (heading A, title B, body C) with a GIN index.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEARCH_VECTOR = (
    "setweight(to_tsvector('english', heading), 'A')"
    " || setweight(to_tsvector('english', title), 'B')"
    " || setweight(to_tsvector('english', body), 'C')"
)


def upgrade() -> None:
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("sections", sa.Integer, nullable=False, server_default="0"),
        sa.Column("added_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("source", name="uq_knowledge_documents_source"),
    )
    op.create_table(
        "knowledge_sections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Integer,
            sa.ForeignKey("knowledge_documents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("heading", sa.String(500), nullable=False),
        sa.Column("anchor", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_knowledge_sections_document_id", "knowledge_sections", ["document_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_fts USING fts5("
            "title, heading, body, tokenize = 'porter unicode61')"
        )
        op.execute(
            "INSERT INTO knowledge_fts(knowledge_fts, rank) VALUES ('rank', 'bm25(2, 4, 1)')"
        )
    else:
        op.execute(
            f"ALTER TABLE knowledge_sections ADD COLUMN search tsvector "
            f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED"
        )
        # Kept in the row, uncompressed: ranking reads every matching row's vector, and
        # fetching it from TOAST and decompressing it cost more than ranking it. A section is
        # at most about 1,800 characters, so its vector fits in a page.
        op.execute("ALTER TABLE knowledge_sections ALTER COLUMN search SET STORAGE PLAIN")
        op.execute(
            "CREATE INDEX ix_knowledge_sections_search ON knowledge_sections USING gin (search)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_fts")
    op.drop_table("knowledge_sections")
    op.drop_table("knowledge_documents")
