"""The knowledge store on SQLite and PostgreSQL: a document is added whole, an unchanged one is
left alone, a changed one replaces its sections (old words are no longer found), and a removed
one is gone from search."""

from __future__ import annotations

from bot.core.knowledge import KnowledgeStore
from bot.core.knowledge.document import Document, Section


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
