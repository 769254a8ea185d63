"""``search_knowledge``: the tool a model calls to search the team's documents.

Its text lists, for each section found, the document's title, the section, the excerpt around
the words that matched and where it came from, so the model can answer and cite; the step's
sources carry each section's title and link (when the document has one), for the sources line
under the answer.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import RunContext

from bot.core.deps import AnswerDeps
from bot.core.events import Source
from bot.core.knowledge.store import Hit, KnowledgeStore
from bot.core.tools.registry import ToolDef
from bot.core.tools.result import ToolResult

DEFAULT_LIMIT = 5
MAX_LIMIT = 20


def knowledge_tool(store: KnowledgeStore) -> ToolDef:
    """The ``search_knowledge`` tool over ``store`` (risk ``read``: it runs at once)."""

    async def search_knowledge(
        ctx: RunContext[AnswerDeps], query: str, limit: int = DEFAULT_LIMIT
    ) -> ToolResult:
        """Search the team's documents (guides, policies, how-tos, Teammate's own help).

        Args:
            query: the words to look for, e.g. "deploy rollback" or a short question.
            limit: how many sections to return, 1 to 20 (default 5).
        """
        wanted = max(1, min(int(limit), MAX_LIMIT))
        hits = await store.search(query, wanted)
        return knowledge_result(query, hits)

    return ToolDef(search_knowledge, risk="read", title=_title)


def knowledge_result(query: str, hits: list[Hit]) -> ToolResult:
    if not hits:
        return ToolResult(
            f'No section of the team\'s documents matches "{query}". Try other words.',
            summary="nothing found",
        )
    lines = [f'{len(hits)} section{"s" if len(hits) != 1 else ""} found for "{query}":', ""]
    for number, hit in enumerate(hits, start=1):
        lines.append(f"{number}. {section_title(hit)}")
        lines.append(f"   {' '.join(hit.snippet.split())}")
        lines.append(f"   Source: {hit.url or hit.source}")
    summary = f"{len(hits)} section{'s' if len(hits) != 1 else ''} found"
    return ToolResult("\n".join(lines), summary=summary, sources=sources_of(hits))


def section_title(hit: Hit) -> str:
    """``Document › Section``, or the document's title alone for its lead section."""
    return f"{hit.title} › {hit.heading}" if hit.heading else hit.title


def sources_of(hits: list[Hit]) -> tuple[Source, ...]:
    return tuple(Source(section_title(hit), hit.url) for hit in hits)


def _title(args: dict[str, Any]) -> str:
    query = " ".join(str(args.get("query", "")).split())
    shown = query if len(query) <= 60 else query[:59] + "…"
    return (
        f"Searching the team's knowledge for “{shown}”"
        if shown
        else "Searching the team's knowledge"
    )
