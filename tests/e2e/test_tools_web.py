"""Web search and fetch over real HTTP: Anthropic's server tools are declared only when
TEAMMATE_WEB_TOOLS allows them and the model's catalog entry has them; a search the provider
ran shows as a step in the thread with the pages it found as sources."""

from __future__ import annotations

import pytest

from bot.testkit.fakes import ServerTool, Text

SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
FETCH = {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 5}


def server_tools(request) -> list[dict]:
    """The web server tools a request declared, by their type, name and use limit."""
    declared = [
        tool
        for tool in request.json.get("tools", [])
        if str(tool.get("type", "")).startswith(("web_search_", "web_fetch_"))
    ]
    return [{key: tool.get(key) for key in ("type", "name", "max_uses")} for tool in declared]


async def ask(stack, question: str = "what changed in Python 3.14?") -> dict:
    posted = stack.mention(question)
    [reply] = await stack.answer("general", posted["ts"])
    return reply


async def test_web_tools_are_off_unless_the_setting_allows_them(stack) -> None:
    await ask(stack)
    [request] = stack.model.requests
    assert server_tools(request) == []
    assert "read_thread" in {tool["name"] for tool in request.json["tools"]}


@pytest.mark.parametrize(
    ("bot_options", "declared"),
    [
        ({"web_tools": "on"}, [SEARCH, FETCH]),
        ({"web_tools": "search,fetch"}, [SEARCH, FETCH]),
        ({"web_tools": "fetch"}, [FETCH]),
    ],
)
async def test_the_request_carries_the_server_tools_allowed(stack, declared) -> None:
    await ask(stack)
    [request] = stack.model.requests
    assert server_tools(request) == declared


@pytest.mark.parametrize(
    "bot_options", [{"web_tools": "on", "model": "anthropic:claude-haiku-9-9"}]
)
async def test_a_model_without_web_tools_in_the_catalog_gets_none(stack) -> None:
    await ask(stack)
    [request] = stack.model.requests
    assert request.json["model"] == "claude-haiku-9-9"
    assert server_tools(request) == []


@pytest.mark.parametrize("bot_options", [{"web_tools": "search,fetch"}])
async def test_a_web_search_shows_as_a_step_with_its_pages(stack) -> None:
    pages = [
        ("What's new in Python 3.14", "https://docs.python.org/3.14/whatsnew/3.14.html"),
        ("Python 3.14 released", "https://blog.python.org/2025/10/python-3140-final.html"),
    ]
    stack.model.script(
        Text(
            "Python 3.14 brings template strings and free threading.",
            server_tools=[
                ServerTool("web_search", {"query": "python 3.14 changes"}, pages, id="srvtoolu_1"),
                ServerTool("web_fetch", {"url": pages[0][1]}, pages[:1], id="srvtoolu_2"),
            ],
        )
    )
    reply = await ask(stack)
    assert reply["text"].strip() == "Python 3.14 brings template strings and free threading."
    steps = {c["id"]: c for c in reply["chunks"] if c["type"] == "task_update"}
    search = steps["srvtoolu_1"]
    assert search["title"] == "Searching the web for “python 3.14 changes”"
    assert search["status"] == "complete" and search["output"] == "2 pages"
    assert search["sources"] == [{"type": "url", "url": url, "text": title} for title, url in pages]
    fetch = steps["srvtoolu_2"]
    assert fetch["title"] == f"Reading {pages[0][1]}"
    assert fetch["sources"] == [{"type": "url", "url": pages[0][1], "text": pages[0][0]}]


@pytest.mark.parametrize("bot_options", [{"web_tools": "on"}])
async def test_a_failed_search_is_a_step_in_error_and_the_answer_goes_on(stack) -> None:
    stack.model.script(
        Text(
            "I could not search just now.",
            server_tools=[ServerTool("web_search", {"query": "x"}, error="too_many_requests")],
        )
    )
    reply = await ask(stack)
    assert reply["text"].strip() == "I could not search just now."
    [step] = [c for c in reply["chunks"] if c["type"] == "task_update"]
    assert step["status"] == "error" and step["output"] == "too_many_requests"
