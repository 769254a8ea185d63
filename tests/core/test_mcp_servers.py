"""MCP servers in the registry, over real stdio and streamable HTTP: tools listed with the
server's prefix and risk, the allow-list applied, a minimal environment, and a server that
will not start or dies left out and brought back without anyone waiting for it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic_ai import RunContext
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RunUsage

from bot.core.conversation import Scope
from bot.core.knowledge.tool import knowledge_tool
from bot.core.memory.tool import memory_tool
from bot.core.tools.builtin_names import BUILT_IN_TOOL_NAMES
from bot.core.tools.mcp import McpServers, Timings
from bot.core.tools.mcp_config import load_mcp_config
from bot.core.tools.registry import ToolDef, ToolRegistry
from bot.core.tools.workspace import workspace_tools
from tests.mcp.servers import free_port, stdio_entry, until, wiki_over_http, write_config

FAST = Timings(connect=20, first_retry=0.1, last_retry=0.5, ping_every=0.2, ping_timeout=2)
GENERAL = Scope("T1", "C0GENERAL", "public", "1.1", "U1")
RANDOM = Scope("T1", "C0RANDOM", "public", "1.1", "U1")


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Callable]:
    """Start the servers of an ``mcpServers`` dict; all are stopped after the test."""
    started: list[McpServers] = []

    async def start_servers(servers: dict, environ: dict | None = None, timings: Timings = FAST):
        environ = environ or dict(os.environ)
        configs = load_mcp_config(write_config(tmp_path, servers), environ)
        mcp = McpServers(configs, environ=environ, log_dir=tmp_path, timings=timings)
        registry = ToolRegistry()
        mcp.register(registry)
        started.append(mcp)
        await mcp.start(wait=20)
        return mcp, registry

    yield start_servers
    for mcp in started:
        await mcp.stop()


async def tool_names(registry: ToolRegistry, scope: Scope = GENERAL) -> set[str]:
    ctx = run_context()
    names: set[str] = set()
    for toolset in registry.toolsets(scope):
        names |= set(await toolset.get_tools(ctx))
    return names


async def test_a_stdio_servers_tools_join_prefixed_with_its_risk(start) -> None:
    mcp, registry = await start({"wiki": stdio_entry(risk="write")})
    assert mcp.get("wiki").up
    assert await tool_names(registry) == {
        "wiki_search",
        "wiki_environment",
        "wiki_pid",
        "wiki_delete_page",
        "wiki_thread",
    }
    assert registry.risk("wiki_search") == "write"
    assert registry.risk("nobody_knows") == "external"


async def test_an_http_servers_tools_join_too(start) -> None:
    async with wiki_over_http() as url:
        mcp, registry = await start({"docs": {"url": url, "tools": ["search"]}})
        assert mcp.get("docs").up
        assert await tool_names(registry) == {"docs_search"}
        assert registry.risk("docs_search") == "external"


async def test_the_allow_list_and_the_channels_limit_what_is_offered(start) -> None:
    _, registry = await start({"wiki": stdio_entry(tools=["search"], channels=["C0RANDOM"])})
    assert await tool_names(registry, GENERAL) == set()
    assert await tool_names(registry, RANDOM) == {"wiki_search"}


async def test_a_tool_named_like_a_built_in_one_is_left_out_and_logged(start, caplog) -> None:
    caplog.set_level(logging.WARNING, "teammate.mcp")
    mcp, registry = await start({"web": stdio_entry(tools=["search", "pid"])})
    assert await tool_names(registry) == {"web_pid"}  # web_search is the provider's own tool
    [line] = [r.getMessage() for r in caplog.records if "built-in" in r.getMessage()]
    assert line == (
        "MCP server web: web_search left out, named like a built-in tool (built-ins win): "
        "give the server another name in TEAMMATE_MCP_CONFIG"
    )
    assert "web_search" not in mcp.get("web").tool_names
    [check] = await mcp.check()
    assert check.tools == ("web_pid",) and check.refused == ("web_search",)


def test_every_built_in_tool_is_among_the_names_no_server_may_take() -> None:
    built_in = [*workspace_tools(None), knowledge_tool(None), memory_tool(None, None)]  # type: ignore[arg-type]
    assert {tool.tool_name for tool in built_in} <= BUILT_IN_TOOL_NAMES


async def test_the_registrys_own_tools_win_over_a_servers_even_added_later(start) -> None:
    _, registry = await start({"wiki": stdio_entry(tools=["search", "pid"])})

    async def wiki_pid(ctx: RunContext) -> str:
        """The wiki's process, as the bot knows it."""
        return "built-in"

    registry.add(ToolDef(wiki_pid))
    names = []
    for toolset in registry.toolsets(GENERAL):
        names += list(await toolset.get_tools(run_context()))
    assert sorted(names) == ["wiki_pid", "wiki_search"]  # once: the built-in one
    assert registry.risk("wiki_pid") == "read"


async def test_a_server_that_will_not_start_is_left_out_and_logged(start, caplog) -> None:
    caplog.set_level(logging.WARNING, "teammate.mcp")
    mcp, registry = await start(
        {"gone": {"command": "no-such-mcp-server"}, "wiki": stdio_entry(tools=["search"])}
    )
    gone = mcp.get("gone")
    assert not gone.up and gone.problem == "its command 'no-such-mcp-server' was not found"
    assert await tool_names(registry) == {"wiki_search"}
    [line] = [r.getMessage() for r in caplog.records if "gone" in r.getMessage()]
    assert line.startswith("MCP server gone is down: its command 'no-such-mcp-server' was not")


async def test_a_server_that_dies_is_left_out_until_it_is_back(start, caplog) -> None:
    caplog.set_level(logging.INFO, "teammate.mcp")
    mcp, registry = await start({"wiki": stdio_entry()})
    wiki = mcp.get("wiki")
    await asyncio.sleep(1.0)  # several pings: a server that answers them stays up
    assert wiki.up and sum("wiki is up" in r.getMessage() for r in caplog.records) == 1
    first = await call_pid(registry)
    os.kill(first, signal.SIGKILL)
    await until(lambda: not wiki.up, within=10)
    assert wiki.problem.startswith("its process exited")
    await until(lambda: wiki.up)
    assert await call_pid(registry) != first
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("MCP server wiki is down: its process exited") for m in messages)
    assert sum(m.startswith("MCP server wiki is up") for m in messages) == 2


async def test_a_call_that_finds_the_server_dead_fails_clearly_and_it_is_checked_at_once(
    start,
) -> None:
    slow_pings = {"wiki": stdio_entry()}
    mcp, registry = await start(slow_pings, timings=replace(FAST, ping_every=600))
    wiki = mcp.get("wiki")
    os.kill(await call_pid(registry), signal.SIGKILL)
    with pytest.raises(ToolFailed, match=r"^The wiki server failed: Connection closed$"):
        await call_pid(registry)
    await until(lambda: not wiki.up, within=10)  # long before the next ping was due
    await until(lambda: wiki.up)


async def test_an_http_server_that_goes_away_is_tried_again_until_it_is_back(start) -> None:
    port = free_port()
    async with wiki_over_http(port) as url:
        mcp, registry = await start({"docs": {"url": url}})
        docs = mcp.get("docs")
        assert docs.up
    await until(lambda: not docs.up, within=10)
    assert docs.problem in ("it closed the connection", f"nothing answers at {url}")
    await until(lambda: docs.problem == f"nothing answers at {url}")  # the next tries
    assert await tool_names(registry) == set()
    async with wiki_over_http(port):
        await until(lambda: docs.up)
        assert "docs_search" in await tool_names(registry)


async def test_a_stdio_server_sees_a_minimal_environment(start) -> None:
    environ = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-1-secret",
        "SLACK_SIGNING_SECRET": "shh",
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "OPENAI_API_KEY": "sk-secret",
        "TEAMMATE_DATABASE_URL": "postgresql://u:pw@db/x",
        "WIKI_TOKEN": "wiki-secret",
        "LANG": "C.UTF-8",
    }
    _, registry = await start(
        {"wiki": stdio_entry(env={"WIKI_TOKEN": "${WIKI_TOKEN}", "WIKI_MODE": "read"})}, environ
    )
    names = json.loads(await call(registry, "wiki_environment"))
    assert {"PATH", "HOME", "LANG", "WIKI_TOKEN", "WIKI_MODE"} <= set(names)
    leaked = [n for n in names if n.startswith(("SLACK_", "ANTHROPIC_", "OPENAI_", "TEAMMATE_"))]
    assert leaked == []


async def call(registry: ToolRegistry, name: str, args: dict | None = None) -> str:
    ctx = run_context()
    for toolset in registry.toolsets(GENERAL):
        tools = await toolset.get_tools(ctx)
        if name in tools:
            return str(await toolset.call_tool(name, args or {}, ctx, tools[name]))
    raise AssertionError(f"{name} is not offered")


async def call_pid(registry: ToolRegistry) -> int:
    return int(await call(registry, "wiki_pid"))


def run_context() -> RunContext:
    return RunContext(deps=None, model=TestModel(), usage=RunUsage())
