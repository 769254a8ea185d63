"""Knowledge search over 10,000 sections, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

The corpus is generated (fixed seed): 500 documents of 20 sections, each of 60–160 words drawn
with a Zipf-like skew from a vocabulary of the shipped seed documents' words and 4,000 made-up
ones, so common words match thousands of sections and rare ones a few, as in real wikis. The
queries are the ranking set's questions, asked as people type them, and 300 generated ones of
two to five words. Each search is the store's own ``search(query, 5)``, as the tool and the
grounding step call it: ranked, with the excerpt drawn. Latency is wall time per call in this
process; CPU per search is this process's ``process_time`` (on PostgreSQL the ranking itself
runs in the server, so that figure is the client's share only).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import yaml

from bench.report import OtherWork, Result, Row, to_text
from bench.stats import percentile
from bot.core.knowledge import KnowledgeStore
from bot.core.knowledge.document import Document, Section
from bot.core.store import Database
from bot.resources import SEEDS_DIR

DOCUMENTS = 500
SECTIONS_EACH = 20
GENERATED_QUERIES = 300
TARGET_P95_MS = 50.0
POSTGRES_ADMIN_URL = os.environ.get(
    "TEAMMATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RANKING_SET = Path(__file__).resolve().parents[1] / "tests" / "knowledge" / "ranking.yml"


def vocabulary(rng: random.Random) -> list[str]:
    words: dict[str, None] = {}
    for path in sorted((SEEDS_DIR / "knowledge").glob("*.md")):
        words.update(dict.fromkeys(re.findall(r"[a-z]{3,}", path.read_text().lower())))
    letters = "abcdefghiklmnoprstuvw"
    while len(words) < 4_000 + 600:
        words["".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))] = None
    ordered = list(words)
    rng.shuffle(ordered)
    return ordered


def corpus(rng: random.Random, words: list[str]) -> list[Document]:
    weights = [1 / (rank + 1) for rank in range(len(words))]
    docs = []
    for d in range(DOCUMENTS):
        sections = []
        for s in range(SECTIONS_EACH):
            heading = " ".join(rng.choices(words, weights, k=rng.randint(2, 4))).capitalize()
            body = " ".join(rng.choices(words, weights, k=rng.randint(60, 160))) + "."
            sections.append(Section(f"{heading} {s}", body))
        docs.append(Document(f"Document {d}", tuple(sections)))
    return docs


def queries(rng: random.Random, words: list[str]) -> list[str]:
    asked = [item["question"] for item in yaml.safe_load(RANKING_SET.read_text())]
    generated = [
        " ".join(rng.sample(words[:2000], rng.randint(2, 5))) for _ in range(GENERATED_QUERIES)
    ]
    return asked + generated


async def measure(db: Database, docs: list[Document], asked: list[str]) -> dict[str, float]:
    store = KnowledgeStore(db)
    loading = time.perf_counter()
    for i, doc in enumerate(docs):
        await store.put(f"bench/{i}.md", str(i), doc)
    loaded = time.perf_counter() - loading
    sections = await store.count_sections()
    for query in asked[:20]:  # warm the caches and the prepared statements
        await store.search(query, 5)
    latencies, found = [], 0
    cpu = time.process_time()
    for query in asked:
        started = time.perf_counter()
        hits = await store.search(query, 5)
        latencies.append(time.perf_counter() - started)
        found += bool(hits)
    cpu = time.process_time() - cpu
    return {
        "sections": sections,
        "load_s": loaded,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "max_ms": max(latencies) * 1000,
        "cpu_ms": cpu / len(asked) * 1000,
        "found": found / len(asked),
        "queries": len(asked),
    }


async def on_sqlite(docs: list[Document], asked: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        await db.migrate()
        try:
            return await measure(db, docs, asked)
        finally:
            await db.close()


async def on_postgres(docs: list[Document], asked: list[str]) -> dict[str, float] | None:
    name = f"teammate_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    db = Database(f"{base}/{name}")
    try:
        await db.migrate()
        return await measure(db, docs, asked)
    finally:
        await db.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def rows_for(label: str, figures: dict[str, float] | None) -> list[Row]:
    if figures is None:
        return [Row(f"{label}: search p95", "not run (database not reachable)", "< 50 ms")]
    return [
        Row(
            f"{label}: search p50 / p95 over {figures['sections']:,} sections",
            f"{figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} ms (max {figures['max_ms']:.0f})",
            f"p95 < {TARGET_P95_MS:.0f} ms",
            figures["p95_ms"] < TARGET_P95_MS,
        ),
        Row(f"{label}: CPU per search in the bot process", f"{figures['cpu_ms']:.2f} ms"),
        Row(
            f"{label}: queries with a hit; loading the corpus",
            f"{figures['found']:.0%} of {figures['queries']}; {figures['load_s']:.1f} s",
        ),
    ]


async def run() -> Result:
    started = time.monotonic()
    rng = random.Random(7)
    words = vocabulary(rng)
    docs = corpus(rng, words)
    asked = queries(rng, words)
    sqlite_figures = await on_sqlite(docs, asked)
    postgres_figures = await on_postgres(docs, asked)
    method = (
        f"{DOCUMENTS} generated documents of {SECTIONS_EACH} sections; "
        f"{len(asked)} searches (the ranking set's questions and {GENERATED_QUERIES} "
        "generated ones), each `KnowledgeStore.search(query, 5)` with its excerpt, one at a "
        "time after 20 warm-up searches"
    )
    result = Result(
        "Knowledge search",
        method,
        rows_for("SQLite FTS5", sqlite_figures) + rows_for("PostgreSQL", postgres_figures),
    )
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    other = OtherWork()
    print(to_text(asyncio.run(run())))
    print(f"{other.summary()}; the PostgreSQL server is one of them")


if __name__ == "__main__":
    main()
