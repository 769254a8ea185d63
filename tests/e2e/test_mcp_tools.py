"""MCP servers through the whole product: real servers started by the test (stdio and
streamable HTTP), a scripted model calling their tools over the Anthropic wire format, the real
bot between them, and the thread in the sandbox showing each step and the answer."""

from __future__ import annotations

import json

import pytest

from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.stack import bot_environment
from tests.e2e.test_cli import teammate
from tests.mcp.servers import free_port, stdio_entry, wiki_over_http, write_config

WIKI_PAGE = "Deploys run every weekday at 10:00 from the release branch."


@pytest.fixture
def servers() -> dict:
    """The ``mcpServers`` the bot starts with; a test or class overrides it."""
    return {"wiki": stdio_entry(tools=["search"], risk="read")}  # read: no approval asked


@pytest.fixture
def bot_options(tmp_path, servers) -> dict:
    return {"mcp_config": write_config(tmp_path, servers)}


def generations(stack) -> list[dict]:
    return [r.json for r in stack.model.requests if r.path == "/v1/messages"]


def offered(body: dict) -> list[str]:
    """The MCP servers' tools a request offered (the built-in ones left out)."""
    servers = ("wiki_", "docs_", "gone_")
    return [tool["name"] for tool in body.get("tools") or [] if tool["name"].startswith(servers)]


async def answer_from_the_wiki(stack, tool: str) -> None:
    stack.model.script(
        ToolCalls([ToolUse(tool, {"query": "deploys"})]),
        Text("Deploys run at ten on weekdays, says the wiki."),
    )
    parent = stack.mention("when do deploys run?")
    [reply] = await stack.answer("general", parent["ts"])
    assert reply["text"] == "Deploys run at ten on weekdays, says the wiki."
    [step] = [c for c in reply["chunks"] if c["type"] == "task_update"]
    assert step["status"] == "complete"
    assert step["title"] == tool.replace("_", " ").capitalize()
    asked, answered = generations(stack)
    assert offered(asked) == [tool]  # the allow-list hides the server's other tools
    assert WIKI_PAGE in json.dumps(answered["messages"])  # the tool's result reached the model


async def test_a_stdio_servers_tool_is_called_and_the_thread_shows_the_step(stack) -> None:
    await answer_from_the_wiki(stack, "wiki_search")


class TestOverStreamableHttp:
    @pytest.fixture
    async def servers(self) -> dict:
        async with wiki_over_http() as url:
            yield {"docs": {"url": url, "tools": ["search"], "risk": "read"}}

    async def test_an_http_servers_tool_is_called_and_the_thread_shows_it(self, stack) -> None:
        await answer_from_the_wiki(stack, "docs_search")


class TestChannels:
    @pytest.fixture
    def servers(self) -> dict:
        return {"wiki": stdio_entry(tools=["search"], channels=["C0RANDOM"], risk="read")}

    async def test_a_server_is_offered_only_in_its_channels(self, stack) -> None:
        stack.model.script(Text("From general."), Text("From random."))
        for channel in ("general", "random"):
            parent = stack.mention("when do deploys run?", channel=channel)
            await stack.answer(channel, parent["ts"])
        in_general, in_random = generations(stack)
        assert offered(in_general) == [] and offered(in_random) == ["wiki_search"]


class TestServersDown:
    @pytest.fixture
    def servers(self) -> dict:
        return {
            "gone": {"command": "no-such-mcp-server"},
            "offline": {"url": f"http://127.0.0.1:{free_port()}/mcp"},
        }

    async def test_the_bot_answers_without_a_server_that_is_down(self, stack) -> None:
        stack.model.script(Text("Deploys run at ten."))
        parent = stack.mention("when do deploys run?")
        [reply] = await stack.answer("general", parent["ts"])
        assert reply["text"] == "Deploys run at ten."
        [asked] = generations(stack)
        assert offered(asked) == []
        states = {s.name: s.problem for s in stack.runtime.mcp.servers}
        assert states["gone"] == "its command 'no-such-mcp-server' was not found"
        assert states["offline"].startswith("nothing answers at http://127.0.0.1:")


class TestNamedLikeABuiltIn:
    @pytest.fixture
    def servers(self) -> dict:
        return {"read": stdio_entry(tools=["thread", "search"], risk="read")}

    async def test_the_built_in_tool_wins_and_the_answer_goes_on(self, stack, caplog) -> None:
        stack.model.script(ToolCalls([ToolUse("read_thread", {})]), Text("Read the thread."))
        parent = stack.mention("when do deploys run?")
        [reply] = await stack.answer("general", parent["ts"])
        assert reply["text"] == "Read the thread."
        asked, answered = generations(stack)
        tools = {tool["name"]: tool for tool in asked["tools"]}
        assert [t["name"] for t in asked["tools"]].count("read_thread") == 1
        assert tools["read_thread"]["description"].startswith("Read every message of the current")
        assert "read_search" in tools  # the server's other tool is offered
        sent = json.dumps(answered["messages"])
        assert "when do deploys run?" in sent.split('"tool_result"', 1)[1]  # the thread's text
        assert "WIKI TALK" not in sent
        started = caplog.get_records("setup")  # logged when the server connected, at start
        [line] = [r.getMessage() for r in started if "built-in" in r.getMessage()]
        assert line.startswith("MCP server read: read_thread left out, named like a built-in")


class TestEnvironment:
    SECRETS = {
        "SLACK_BOT_TOKEN": "xoxb-1-secret",
        "SLACK_APP_TOKEN": "xapp-1-secret",
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "OPENAI_API_KEY": "sk-secret",
        "TEAMMATE_ADMINS": "U0ADMIN",
        "WIKI_TOKEN": "wiki-token",
    }

    @pytest.fixture
    def servers(self, monkeypatch) -> dict:
        for name, value in self.SECRETS.items():
            monkeypatch.setenv(name, value)
        return {"wiki": stdio_entry(env={"WIKI_TOKEN": "${WIKI_TOKEN}"}, risk="read")}

    async def test_a_stdio_server_never_sees_the_bots_tokens_and_keys(self, stack) -> None:
        stack.model.script(ToolCalls([ToolUse("wiki_environment", {})]), Text("Seen."))
        parent = stack.mention("what does the wiki server see?")
        await stack.answer("general", parent["ts"])
        _, answered = generations(stack)
        [result] = [
            block
            for message in answered["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
            if block["type"] == "tool_result"
        ]
        text = (
            result["content"]
            if isinstance(result["content"], str)
            else result["content"][0]["text"]
        )
        names = json.loads(text)
        assert "PATH" in names and "WIKI_TOKEN" in names
        assert [
            n for n in names if n.startswith(("SLACK_", "ANTHROPIC_", "OPENAI_", "TEAMMATE_"))
        ] == []


async def test_doctor_names_a_server_that_is_down_and_lists_one_that_works(
    sandbox, model, tmp_path
) -> None:
    config = write_config(
        tmp_path,
        {"wiki": stdio_entry(tools=["search", "pid"]), "gone": {"command": "no-such-mcp-server"}},
    )
    env = bot_environment(sandbox, model, tmp_path, TEAMMATE_MCP_CONFIG=str(config))
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 1, out
    lines = out.splitlines()
    [works] = [line for line in lines if line.startswith("✓ MCP server wiki")]
    assert "works: 2 tools, risk external, everywhere: wiki_search, wiki_pid" in works
    [down] = [line for line in lines if line.startswith("✗")]
    assert down.startswith("✗ MCP server gone (stdio: no-such-mcp-server) does not start: its ")
    assert f'fix "command"/"args" of "gone" in {config}' in down


async def test_doctor_names_a_tool_left_out_for_a_built_in_ones_name(
    sandbox, model, tmp_path
) -> None:
    config = write_config(tmp_path, {"read": stdio_entry(tools=["thread", "search"])})
    env = bot_environment(sandbox, model, tmp_path, TEAMMATE_MCP_CONFIG=str(config))
    code, out = await teammate("doctor", env=env, cwd=tmp_path)
    assert code == 1, out
    lines = out.splitlines()
    [works] = [line for line in lines if line.startswith("✓ MCP server read")]
    assert works.endswith("works: 1 tools, risk external, everywhere: read_search")
    [refused] = [line for line in lines if line.startswith("✗")]
    assert refused == (
        "✗ MCP server read: read_thread left out, named like a built-in tool (built-ins win): "
        f'give the server another name than "read" in {config}'
    )


async def test_a_bad_config_file_stops_the_start_with_one_line(sandbox, model, tmp_path) -> None:
    config = write_config(tmp_path, {"wiki": {"url": "http://wiki.internal/mcp", "risk": "low"}})
    env = bot_environment(sandbox, model, tmp_path, TEAMMATE_MCP_CONFIG=str(config))
    code, out = await teammate("serve", "--port", "0", env=env, cwd=tmp_path)
    assert code == 2
    assert out.strip() == (
        f'teammate: TEAMMATE_MCP_CONFIG ({config}): server "wiki" has "risk": "low": use '
        '"read", "write" or "external"'
    )
