"""The knowledge base in the database: documents, their sections, and search ranked there.

Ranking is the database's own full-text search, on each backend its best: SQLite's FTS5 with
bm25 (``porter unicode61``; ``snippet()`` for the excerpt), PostgreSQL's weighted ``tsvector``
with ``websearch_to_tsquery``, ``ts_rank_cd`` and ``ts_headline``. A question's words are
searched with OR, so a section that holds most of them ranks first without needing all of them
(people ask in sentences; the models call the tool with a few keywords).

On PostgreSQL ranking costs time for every section it reads, and one common word of a question
matches a large part of a big corpus. So the candidates are the sections holding the question's
rarer words: its words from the rarest up, while the sections they appear in add up to at most
``candidates``, and until they are in as many sections as the search asks for. Those are ranked
by the whole question, common words included. The count of sections per word is kept in
``knowledge_terms`` as documents are written (migration 0009). When the question's words are
in no more than that many sections together, nothing is left out. FTS5 computes bm25 inside its
index scan and needs none of this.

Writes are whole documents: a document is replaced (its sections and index rows with it) in one
transaction, and one whose bytes have not changed is left as it is.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.knowledge.document import Document
from bot.core.store.db import Database
from bot.core.store.schema import KnowledgeDocumentRow, KnowledgeSectionRow

PutOutcome = Literal["added", "updated", "unchanged"]
MARK = "**"
"""What the excerpt puts around the words that matched (Markdown bold)."""

# Words that carry no meaning for a search. PostgreSQL's `english` configuration drops its own
# list; FTS5 has none, and without one "how do I…" would match every section.
STOPWORDS = frozenset(
    "a about an and any are as at be been but by can could do does for from had has have how i"
    " if in into is it its me my no not of on or our please should so than that the their them"
    " then there these they this to us was we were what when where which who whom why will"
    " with would you your also anything get just many much need really something thing things"
    " want way".split()
)


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    id: int
    source: str
    title: str
    url: str | None
    sections: int
    added_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Hit:
    """One section found: where it is, the excerpt around its matches, and its whole text."""

    document_id: int
    title: str
    heading: str
    source: str
    url: str | None
    snippet: str
    body: str
    score: float


def search_terms(query: str) -> list[str]:
    """The words of ``query`` worth searching for: lower-cased, each once, no stopwords, no
    lone digits or letters."""
    seen: dict[str, None] = {}
    for word in re.findall(r"\w+", query.lower()):
        if word in STOPWORDS or len(word) < 2 or word.isdigit():
            continue
        seen[word] = None
    return list(seen)[:32]


CANDIDATES = 1_000
"""How many sections PostgreSQL's search ranks at most when the question's rarer words pick
them (ranking reads each one; see the module docstring and docs/benchmarks.md)."""


class KnowledgeStore:
    def __init__(self, db: Database, candidates: int = CANDIDATES) -> None:
        self.db = db
        self.candidates = candidates

    # -- writing -----------------------------------------------------------------------------

    async def put(self, source: str, content_hash: str, document: Document) -> PutOutcome:
        """Add ``document`` as ``source``, replace the one there, or leave an unchanged one."""
        try:
            return await self._put(source, content_hash, document)
        except IntegrityError:
            # Another process added the same source at the same moment: look again.
            return await self._put(source, content_hash, document)

    async def _put(self, source: str, content_hash: str, document: Document) -> PutOutcome:
        now = time.time()
        async with self.db.write() as session:
            row = (
                await session.execute(
                    select(KnowledgeDocumentRow).where(KnowledgeDocumentRow.source == source)
                )
            ).scalar_one_or_none()
            if row is not None and row.content_hash == content_hash:
                return "unchanged"
            outcome: PutOutcome = "added" if row is None else "updated"
            if row is None:
                row = KnowledgeDocumentRow(source=source, added_at=now)
                session.add(row)
            else:
                await self._drop_sections(session, row.id)
            row.title = document.title[:300]
            row.url = document.url
            row.content_hash = content_hash
            row.sections = len(document.sections)
            row.updated_at = now
            await session.flush()
            await self._add_sections(session, row.id, document)
        return outcome

    async def remove(self, document_id: int) -> None:
        async with self.db.write() as session:
            await self._drop_sections(session, document_id)
            await session.execute(
                delete(KnowledgeDocumentRow).where(KnowledgeDocumentRow.id == document_id)
            )

    async def _add_sections(self, session: AsyncSession, document_id: int, doc: Document) -> None:
        if not doc.sections:
            return
        rows = [
            {
                "document_id": document_id,
                "position": position,
                "title": doc.title[:300],
                "heading": section.heading[:500],
                "anchor": section.anchor[:200],
                "body": section.body,
            }
            for position, section in enumerate(doc.sections)
        ]
        result = await session.execute(
            insert(KnowledgeSectionRow).returning(
                KnowledgeSectionRow.id, sort_by_parameter_order=True
            ),
            rows,
        )
        if self.db.is_sqlite:
            ids = list(result.scalars())
            await session.execute(
                text(
                    "INSERT INTO knowledge_fts (rowid, title, heading, body)"
                    " VALUES (:id, :title, :heading, :body)"
                ),
                [{"id": i, **row} for i, row in zip(ids, rows, strict=True)],
            )
        else:
            await session.execute(_COUNT_TERMS, {"doc": document_id, "sign": 1})

    async def _drop_sections(self, session: AsyncSession, document_id: int) -> None:
        if self.db.is_sqlite:
            await session.execute(
                text(
                    "DELETE FROM knowledge_fts WHERE rowid IN"
                    " (SELECT id FROM knowledge_sections WHERE document_id = :doc)"
                ),
                {"doc": document_id},
            )
        else:
            await session.execute(_COUNT_TERMS, {"doc": document_id, "sign": -1})
            await session.execute(_FORGET_TERMS, {"doc": document_id})
        await session.execute(
            delete(KnowledgeSectionRow).where(KnowledgeSectionRow.document_id == document_id)
        )

    # -- reading -----------------------------------------------------------------------------

    async def documents(self) -> list[DocumentInfo]:
        """Every document, the first added first."""
        query = select(KnowledgeDocumentRow).order_by(
            KnowledgeDocumentRow.added_at, KnowledgeDocumentRow.id
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(query)).scalars().all()
        return [_info(row) for row in rows]

    async def find(self, id_or_source: str) -> DocumentInfo | None:
        """The document with this id, else the one with this source."""
        query = select(KnowledgeDocumentRow)
        if id_or_source.isdigit():
            query = query.where(KnowledgeDocumentRow.id == int(id_or_source))
        else:
            query = query.where(KnowledgeDocumentRow.source == id_or_source)
        async with self.db.sessions() as session:
            row = (await session.execute(query)).scalar_one_or_none()
        return _info(row) if row is not None else None

    async def count_sections(self) -> int:
        async with self.db.sessions() as session:
            return int(
                (await session.execute(select(func.count(KnowledgeSectionRow.id)))).scalar_one()
            )

    async def search(self, query: str, limit: int = 5) -> list[Hit]:
        """The sections that best match ``query``, best first (none when it has no words)."""
        terms = search_terms(query)
        if not terms or limit < 1:
            return []
        params: dict[str, str | int] = {"limit": limit}
        if self.db.is_sqlite:
            statement = _SQLITE_SEARCH
            params["q"] = " OR ".join(f'"{t}"' for t in terms)
        else:
            statement = _POSTGRES_SEARCH
            params.update(q=" or ".join(terms), words=" ".join(terms), at_most=self.candidates)
        async with self.db.sessions() as session:
            rows = (await session.execute(statement, params)).all()
        return [
            Hit(
                document_id=row.document_id,
                title=row.title,
                heading=row.heading,
                source=row.source,
                url=_link(row.url, row.anchor),
                snippet=row.snippet,
                body=row.body,
                score=float(row.score),
            )
            for row in rows
        ]


# bm25 is lower for a better match; its column weights are the table's default rank (0005).
_SQLITE_SEARCH = text(
    f"""
    SELECT s.document_id, d.title, s.heading, s.anchor, s.body, d.source, d.url,
           hit.snippet, -hit.rank AS score
    FROM (
        SELECT rowid, rank,
               snippet(knowledge_fts, 2, '{MARK}', '{MARK}', '…', 24) AS snippet
        FROM knowledge_fts WHERE knowledge_fts MATCH :q
        ORDER BY rank LIMIT :limit
    ) AS hit
    JOIN knowledge_sections s ON s.id = hit.rowid
    JOIN knowledge_documents d ON d.id = s.document_id
    ORDER BY hit.rank
    """
)

_HEADLINE = (
    f"StartSel={MARK}, StopSel={MARK}, MaxWords=30, MinWords=12, MaxFragments=2,"
    ' FragmentDelimiter=" … "'
)

# Weights by label {D, C, B, A}: heading A counts most, body C, the document's title B least
# (every section of a document shares it, so it tells them apart least); the rank is divided
# by 1 + log(length), so a long section does not win by size. `words` are the question's
# lexemes with the number of sections holding each; from the rarest up, a word joins `pick`
# (the OR query that selects the candidates through the GIN index) while the counts add up to
# at most :at_most, or while the words before it hold fewer than :limit sections (a question
# whose rare words are in no section still finds the common ones'). The candidates must match
# the whole question too (a word the parser splits, such as foo_bar, is a phrase there).
# Ranked first, then headlines are drawn for the few kept (ts_headline is the costly part).
_POSTGRES_SEARCH = text(
    f"""
    WITH words AS (
        SELECT w.lexeme, coalesce(t.sections, 0) AS sections,
               sum(coalesce(t.sections, 0)) OVER rarest AS sections_so_far
        FROM unnest(tsvector_to_array(to_tsvector('english', :words))) AS w(lexeme)
        LEFT JOIN knowledge_terms t ON t.lexeme = w.lexeme
        WINDOW rarest AS (ORDER BY coalesce(t.sections, 0), w.lexeme)
    ),
    q AS (
        SELECT websearch_to_tsquery('english', :q) AS query,
               (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM words
                WHERE sections_so_far <= :at_most OR sections_so_far - sections < :limit) AS pick
    ),
    hit AS (
        SELECT s.id, ts_rank_cd(ARRAY[0.1, 0.3, 0.05, 1.0]::float4[], s.search, q.query, 1) AS score
        FROM knowledge_sections s, q
        WHERE s.search @@ q.pick AND s.search @@ q.query
        ORDER BY score DESC, s.id
        LIMIT :limit
    )
    SELECT s.document_id, d.title, s.heading, s.anchor, s.body, d.source, d.url, hit.score,
           ts_headline('english', s.body, q.query,
                       '{_HEADLINE}') AS snippet
    FROM hit JOIN knowledge_sections s ON s.id = hit.id
    JOIN knowledge_documents d ON d.id = s.document_id, q
    ORDER BY hit.score DESC, s.id
    """
)

# How many sections hold each lexeme, added (:sign 1) or taken away (-1) a document's worth;
# in lexeme order, so two writers lock the rows they share in the same order.
_COUNT_TERMS = text(
    """
    INSERT INTO knowledge_terms (lexeme, sections)
    SELECT lexeme, :sign * count(*)
    FROM knowledge_sections, unnest(tsvector_to_array(search)) AS lexeme
    WHERE document_id = :doc
    GROUP BY lexeme ORDER BY lexeme
    ON CONFLICT (lexeme) DO UPDATE SET sections = knowledge_terms.sections + EXCLUDED.sections
    """
)

_FORGET_TERMS = text(
    """
    DELETE FROM knowledge_terms
    WHERE sections <= 0 AND lexeme IN (
        SELECT unnest(tsvector_to_array(search)) FROM knowledge_sections WHERE document_id = :doc
    )
    """
)


def _link(url: str | None, anchor: str) -> str | None:
    if not url:
        return None
    return f"{url.split('#', 1)[0]}#{anchor}" if anchor else url


def _info(row: KnowledgeDocumentRow) -> DocumentInfo:
    return DocumentInfo(
        id=row.id,
        source=row.source,
        title=row.title,
        url=row.url,
        sections=row.sections,
        added_at=row.added_at,
        updated_at=row.updated_at,
    )
