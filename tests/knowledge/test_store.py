"""The knowledge store on SQLite and PostgreSQL: a document is added whole, an unchanged one is
left alone, a changed one replaces its sections (old words are no longer found), and a removed
one is gone from search. On PostgreSQL the question's rarer words pick what is ranked, by the
count of sections per word the store keeps."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from bot.core.knowledge import KnowledgeStore
from bot.core.knowledge.document import Document, Section
from bot.core.store.db import MIGRATIONS
from tests.conftest import postgres_database


def doc(*sections: tuple[str, str], url: str | None = None) -> Document:
    return Document("Deploy guide", tuple(Section(h, b) for h, b in sections), url)


async def test_add_unchanged_update_and_remove(db) -> None:
    store = KnowledgeStore(db)
    first = doc(("Rolling back", "Run the rollback job from the pipeline page."))
    assert await store.put("/docs/deploy.md", "h1", first) == "added"
    assert await store.put("/docs/deploy.md", "h1", first) == "unchanged"
    [hit] = await store.search("how do I roll back a deploy?")
    assert (hit.title, hit.heading, hit.source) == (
        "Deploy guide",
        "Rolling back",
        "/docs/deploy.md",
    )
    [hit] = await store.search("rollback job")
    assert "**rollback** **job** from the pipeline page" in hit.snippet

    second = doc(
        ("Canary releases", "Ship to five percent of hosts first."), url="https://d.example/deploy"
    )
    assert await store.put("/docs/deploy.md", "h2", second) == "updated"
    assert await store.search("rollback") == []
    [hit] = await store.search("canary")
    assert hit.url == "https://d.example/deploy" and hit.heading == "Canary releases"
    [info] = await store.documents()
    assert (info.sections, info.title) == (1, "Deploy guide")
    assert await store.find(str(info.id)) == info == await store.find("/docs/deploy.md")

    await store.remove(info.id)
    assert await store.search("canary") == [] and await store.documents() == []
    assert await store.count_sections() == 0


async def test_a_question_of_stopwords_finds_nothing(db) -> None:
    store = KnowledgeStore(db)
    await store.put("a.md", "h", doc(("Intro", "What is this and how do you do it?")))
    assert await store.search("what is it?") == []
    assert await store.search('"); DROP TABLE x; -- OR NEAR(') == []


def deploy_guide() -> Document:
    """Twenty sections about deploying, two about canaries (one of them deploys too)."""
    steps = [(f"Deploy step {n}", "Deploy the service, then deploy the worker.") for n in range(20)]
    canaries = [
        ("Canary hosts", "Pick the canary hosts first."),
        ("Canary deploys", "A canary deploy goes to five hosts."),
    ]
    return doc(*steps, *canaries)


async def test_postgres_ranks_the_sections_of_the_rarer_words() -> None:
    """With room to rank 5 sections, "deploy canary" ranks the two canary sections (the common
    word still counts in their rank); with room for all, a deploy step outranks a canary one;
    asked for more than the rare word holds, the common word's sections fill the rest."""
    async with postgres_database() as db:
        everything, narrow = KnowledgeStore(db), KnowledgeStore(db, candidates=5)
        await everything.put("deploy.md", "h", deploy_guide())
        found = [hit.heading for hit in await narrow.search("deploy canary", 2)]
        assert found == ["Canary deploys", "Canary hosts"]
        found = [hit.heading for hit in await everything.search("deploy canary", 2)]
        assert found[0] == "Canary deploys" and found[1].startswith("Deploy step")
        found = [hit.heading for hit in await narrow.search("deploy canary", 5)]
        assert len(found) == 5 and found[0] == "Canary deploys"
        found = [hit.heading for hit in await narrow.search("friday deploy", 3)]
        assert len(found) == 3 and all(h.startswith("Deploy step") for h in found)


async def test_postgres_keeps_the_count_of_sections_per_word() -> None:
    async with postgres_database() as db:
        store = KnowledgeStore(db)
        await store.put("deploy.md", "h1", deploy_guide())
        await store.put("other.md", "h1", doc(("Canary", "Canary birds sing.")))
        assert await term_counts(db) == await recounted(db) != {}
        assert (await term_counts(db))["canari"] == 3
        await store.put("deploy.md", "h2", doc(("Rolling back", "Run the rollback job.")))
        assert await term_counts(db) == await recounted(db)
        assert (await term_counts(db))["canari"] == 1 and "worker" not in await term_counts(db)
        for info in await store.documents():
            await store.remove(info.id)
        assert await term_counts(db) == {}


async def test_postgres_counts_stay_right_when_documents_are_written_at_once() -> None:
    async with postgres_database() as db:
        store = KnowledgeStore(db)
        await asyncio.gather(*(store.put(f"{n}.md", "h1", deploy_guide()) for n in range(6)))
        await asyncio.gather(
            *(store.put(f"{n}.md", "h2", doc(("Canary", "Canary birds."))) for n in range(3)),
            *(store.remove(info.id) for info in await store.documents() if info.source >= "3"),
        )
        assert await term_counts(db) == await recounted(db)
        assert (await term_counts(db))["canari"] == 3


async def term_counts(db) -> dict[str, int]:
    async with db.sessions() as session:
        rows = await session.execute(text("SELECT lexeme, sections FROM knowledge_terms"))
        return dict(rows.all())


async def recounted(db) -> dict[str, int]:
    query = (
        "SELECT lexeme, count(*) FROM knowledge_sections, unnest(tsvector_to_array(search))"
        " AS lexeme GROUP BY lexeme"
    )
    async with db.sessions() as session:
        return dict((await session.execute(text(query))).all())


async def test_postgres_counts_the_words_of_sections_written_before_the_counts_existed() -> None:
    async with postgres_database() as db:
        await KnowledgeStore(db).put("deploy.md", "h", deploy_guide())
        async with db.engine.begin() as conn:
            await conn.run_sync(downgrade_to, "0008")  # the sections stay, their counts go
        await db.migrate()
        assert (await term_counts(db))["canari"] == 2
        assert await term_counts(db) == await recounted(db)
        [hit] = await KnowledgeStore(db, candidates=0).search("canary hosts", 1)
        assert hit.heading == "Canary hosts"


def downgrade_to(conn, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.downgrade(config, revision)
