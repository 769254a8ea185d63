"""The right section comes first for each question of ranking.yml, on SQLite (FTS5, bm25) and
on PostgreSQL (weighted tsvector, ts_rank_cd), over the shipped seeds and the documents here
(Markdown with front matter, HTML with a canonical link, plain text)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.knowledge import KnowledgeStore, add_paths, load_seeds
from bot.core.knowledge.tool import section_title
from bot.resources import SEEDS_DIR

HERE = Path(__file__).parent
QUESTIONS = yaml.safe_load((HERE / "ranking.yml").read_text(encoding="utf-8"))


@pytest.fixture
async def knowledge(db) -> KnowledgeStore:
    store = KnowledgeStore(db)
    await load_seeds(store, SEEDS_DIR / "knowledge")
    added = await add_paths(store, [HERE / "documents"])
    assert [o.status for o in added] == ["added"] * 4
    return store


async def test_each_question_finds_its_section_first(knowledge) -> None:
    assert len(QUESTIONS) >= 15
    assert await missed_questions(knowledge) == []


@pytest.mark.parametrize("db", ["postgres"], indirect=True)  # FTS5 ranks inside its index
async def test_the_rarest_words_alone_still_find_each_section_first(knowledge) -> None:
    """On PostgreSQL a question's rarer words pick the sections that are ranked; with room for
    none beyond the fewest that give three results, each question still finds its section."""
    assert not knowledge.db.is_sqlite
    narrow = KnowledgeStore(knowledge.db, candidates=0)
    assert await missed_questions(narrow) == []


async def missed_questions(store: KnowledgeStore) -> list[tuple[str, str, list[str]]]:
    missed = []
    for item in QUESTIONS:
        hits = await store.search(item["question"], 3)
        found = [section_title(hit) for hit in hits]
        if not found or found[0] != item["first"]:
            missed.append((item["question"], item["first"], found))
    return missed


async def test_hits_carry_title_section_snippet_source_and_link(knowledge) -> None:
    [hit] = await knowledge.search("promote the replica", 1)
    assert (hit.title, hit.heading) == ("Database failover runbook", "Promoting the replica")
    assert hit.url == "https://wiki.example.com/runbooks/db-failover"
    assert hit.source == str((HERE / "documents/runbooks/database-failover.md").resolve())
    assert "**promote**" in hit.snippet.lower() and "**replica" in hit.snippet.lower()
    [paged] = await knowledge.search("acknowledge a page", 1)
    assert paged.url == "https://wiki.example.com/oncall#paging"  # the heading's id
    [seed] = await knowledge.search("Slack Connect shared channel memory", 1)
    assert seed.source == "seeds/knowledge/memory.md" and seed.url is None
