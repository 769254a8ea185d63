"""The MCP config file: the ``mcpServers`` format other MCP clients read, Teammate's own keys,
``${VAR}`` references, and one line naming the server and the fix for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.conversation import Scope
from bot.core.tools.mcp import server_environment
from bot.core.tools.mcp_config import McpConfigError, load_mcp_config
from bot.settings import Settings


def config_file(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def load(tmp_path: Path, servers: object, environ: dict | None = None):
    return load_mcp_config(config_file(tmp_path, {"mcpServers": servers}), environ or {})


def problem(tmp_path: Path, servers: object, environ: dict | None = None) -> str:
    with pytest.raises(McpConfigError) as caught:
        load(tmp_path, servers, environ)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_claude_desktop_file_loads_with_teammates_keys(tmp_path: Path) -> None:
    wiki, tickets = load(
        tmp_path,
        {
            "wiki": {
                "command": "npx",
                "args": ["-y", "@acme/wiki-mcp"],
                "env": {"WIKI_TOKEN": "${WIKI_TOKEN}", "WIKI_SPACE": "${WIKI_SPACE:-eng}"},
                "tools": ["search", "page"],
                "risk": "read",
                "disabled": False,  # another client's key: ignored
            },
            "tickets": {
                "type": "http",
                "url": "https://tickets.example.com/mcp",
                "headers": {"Authorization": "Bearer ${TICKETS_TOKEN}"},
                "channels": ["C0123ABCD"],
            },
        },
        {"WIKI_TOKEN": "w-1", "TICKETS_TOKEN": "t-2"},
    )
    assert (wiki.transport, wiki.command, wiki.args) == ("stdio", "npx", ("-y", "@acme/wiki-mcp"))
    assert wiki.env == {"WIKI_TOKEN": "w-1", "WIKI_SPACE": "eng"}
    assert wiki.risk == "read" and wiki.allows("search") and not wiki.allows("delete")
    assert tickets.transport == "http" and tickets.risk == "external"
    assert tickets.headers == {"Authorization": "Bearer t-2"}
    assert tickets.offered_in(Scope("T1", "C0123ABCD", "public", "1.1", "U1"))
    assert not tickets.offered_in(Scope("T1", "C0OTHER", "public", "1.1", "U1"))
    assert wiki.offered_in(Scope("T1", "C0OTHER", "public", "1.1", "U1"))


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"command": "x", "url": "http://x/mcp"}, 'needs exactly one of "command" (stdio) and'),
        ({"args": ["x"]}, 'needs exactly one of "command" (stdio) and "url"'),
        ({"command": "x", "risk": "low"}, 'has "risk": "low": use "read", "write" or "external"'),
        ({"command": "x", "channels": ["#general"]}, "lists '#general' in \"channels\": use"),
        ({"command": "x", "tools": []}, 'has an empty "tools" list'),
        ({"command": "x", "tools": "search"}, 'has "tools" that is not a list of strings'),
        ({"command": "x", "env": {"N": 1}}, 'has "env" that is not an object of strings'),
        ({"url": "wiki.internal/mcp"}, "it must start with http:// or https://"),
        ({"type": "sse", "url": "http://x/sse"}, 'has "type": "sse": Teammate speaks "stdio"'),
        ({"type": "stdio", "url": "http://x/mcp"}, 'has "type": "stdio" but a url'),
        ({"command": "x", "env": {"T": "${NOT_SET}"}}, "refers to ${NOT_SET}, which is not set"),
        ("npx wiki", 'is not an object: give it "command" (stdio) or "url"'),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_server(tmp_path: Path, entry, said) -> None:
    message = problem(tmp_path, {"wiki": entry})
    assert message.startswith(f'TEAMMATE_MCP_CONFIG ({tmp_path / "mcp.json"}): server "wiki" ')
    assert said in message


def test_a_name_that_cannot_prefix_tools_is_refused(tmp_path: Path) -> None:
    assert "cannot prefix tool names" in problem(tmp_path, {"my wiki": {"command": "x"}})


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"mcpServers": {"wiki": {"command": "x",}}}', "is not valid JSON (line 1:"),
        ('{"servers": {}}', 'has no "mcpServers" object'),
        ('{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}', 'names "a" twice'),
    ],
)
def test_a_bad_file_is_one_line(tmp_path: Path, content: str, said: str) -> None:
    with pytest.raises(McpConfigError, match="TEAMMATE_MCP_CONFIG") as caught:
        load_mcp_config(config_file(tmp_path, content), {})
    assert said in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="which is not a file: fix the path"):
        load_mcp_config(tmp_path / "nope.json", {})


def test_a_stdio_server_gets_path_home_the_locale_and_its_own_env(tmp_path: Path) -> None:
    [wiki] = load(
        tmp_path,
        {"wiki": {"command": "x", "env": {"WIKI_TOKEN": "${WIKI_TOKEN}"}}},
        {"WIKI_TOKEN": "w-1"},
    )
    bot = {
        "PATH": "/usr/bin",
        "HOME": "/home/teammate",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "ANTHROPIC_API_KEY": "sk-ant-1",
        "TEAMMATE_DATABASE_URL": "postgresql://x",
        "WIKI_TOKEN": "w-1",
        "AWS_SECRET_ACCESS_KEY": "aws",
    }
    assert server_environment(wiki, bot) == {
        "PATH": "/usr/bin",
        "HOME": "/home/teammate",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "WIKI_TOKEN": "w-1",
    }


def test_the_setting_names_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEAMMATE_MCP_CONFIG", str(tmp_path / "mcp.json"))
    assert Settings(_env_file=None).mcp_config == tmp_path / "mcp.json"  # type: ignore[call-arg]
