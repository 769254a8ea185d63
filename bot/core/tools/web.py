"""Web search and fetch through the provider's own server tools, where a model has them.

Anthropic runs ``web_search`` and ``web_fetch`` itself: the request declares them and the answer
streams back the call and its result, so there is nothing to run here, only what to allow and
how to show it. ``TEAMMATE_WEB_TOOLS`` (``search``, ``fetch``, both, ``on``; default off) says
which may be offered; the catalog says which models have them (``web_tools``). pydantic-ai's
``WebSearch``/``WebFetch`` capabilities declare the tools through a factory that asks, for every
request, whether the model serving it has them: a fallback to a model without them just leaves
them out (without the factory pydantic-ai would raise ``UserError`` on any other provider), and
no local fallback is ever used, so nothing reaches the web from this process.

The call and its result become a step like any tool's (bot.core.stream_map): "Searching the
web", with the pages found as its sources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability, WebFetch, WebSearch
from pydantic_ai.models import Model
from pydantic_ai.native_tools import AbstractNativeTool, WebFetchTool, WebSearchTool

from bot.core.deps import AnswerDeps
from bot.core.events import Source, ToolOutcome

MAX_USES = 5
"""Searches (and fetches) one answer may make: each costs money at the provider."""
SEARCH = WebSearchTool.kind
FETCH = WebFetchTool.kind

_Native = TypeVar("_Native", bound=AbstractNativeTool)


def web_capabilities(allowed: str) -> list[AbstractCapability[AnswerDeps]]:
    """The server tools ``allowed`` names (``search,fetch``, as bot.settings keeps it)."""
    chosen = set(allowed.split(",")) if allowed else set()
    capabilities: list[AbstractCapability[AnswerDeps]] = []
    if "search" in chosen:
        search = WebSearchTool(max_uses=MAX_USES)
        capabilities.append(WebSearch(native=_where_served(search), local=False))
    if "fetch" in chosen:
        fetch = WebFetchTool(max_uses=MAX_USES)
        capabilities.append(WebFetch(native=_where_served(fetch), local=False))
    return capabilities


def _where_served(tool: _Native) -> Callable[[RunContext[AnswerDeps]], _Native | None]:
    """A factory that offers ``tool`` only to a request whose model has web tools."""

    def offer(ctx: RunContext[AnswerDeps]) -> _Native | None:
        spec = ctx.deps.answer.spec_of(cast(Model, ctx.model))  # compared by identity only
        return tool if spec.web_tools and ctx.model.system == "anthropic" else None

    return offer


# -- the step a person sees ----------------------------------------------------------------


def is_web_tool(name: str) -> bool:
    return name in (SEARCH, FETCH)


def step_title(name: str, args: dict[str, Any]) -> str:
    """What a person reads while the server tool runs."""
    if name == SEARCH:
        query = str(args.get("query") or "").strip()
        return f"Searching the web for “{query}”" if query else "Searching the web"
    url = str(args.get("url") or "").strip()
    return f"Reading {url}" if url else "Reading a web page"


def step_result(name: str, content: Any) -> tuple[ToolOutcome, str, tuple[Source, ...]]:
    """The outcome, one-line summary and sources of a server tool's result as it came back."""
    if isinstance(content, dict) and str(content.get("type", "")).endswith("_error"):
        return "failed", str(content.get("error_code") or "the web tool failed"), ()
    if name == SEARCH:
        pages = _sources(content if isinstance(content, list) else [])
        count = len(pages)
        return "success", f"{count} page" + ("" if count == 1 else "s"), pages
    document = content.get("content") if isinstance(content, dict) else None
    url = content.get("url") if isinstance(content, dict) else None
    title = (document or {}).get("title") if isinstance(document, dict) else None
    if not isinstance(url, str) or not url:
        return "success", "read", ()
    return "success", str(title or url), (Source(str(title or url), url),)


def _sources(results: Sequence[Any]) -> tuple[Source, ...]:
    found = []
    for item in results:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            found.append(Source(str(item.get("title") or item["url"]), item["url"]))
    return tuple(found)
