"""The MCP servers an admin configured: the ``mcpServers`` JSON file that Claude Desktop, Claude
Code and Cursor read, plus three optional keys of Teammate's own per server.

Usage::

    servers = load_mcp_config(Path("mcp.json"), os.environ)

A server entry is either stdio (``command``, ``args``, ``env``, ``cwd``) or streamable HTTP
(``url``, ``headers``); ``type`` may say which (``stdio``, ``http``). Teammate's keys:

- ``risk``: ``read``, ``write`` or ``external`` (default) for every tool of the server;
- ``tools``: an allow-list of the server's own tool names (default: all of them);
- ``channels``: the channel ids where its tools are offered (default: everywhere).

``${VAR}`` and ``${VAR:-default}`` in ``command``, ``args``, ``env``, ``url`` and ``headers`` are
read from the bot's environment when the file is loaded, as Claude Code does: that is how a server
gets a token without the file holding it, and only the variables named reach the server. Keys
other clients use (``disabled``, ``autoApprove``, ...) are ignored, so one file can serve them
all; a key of Teammate's with a wrong value is an error.

Every problem is one :class:`McpConfigError` line naming the file, the server and the fix. This
module imports no MCP client, so a start can check the file before anything connects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from bot.core.conversation import Scope
from bot.core.events import Risk

SETTING = "TEAMMATE_MCP_CONFIG"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CHANNEL = re.compile(r"^[CDG][A-Z0-9]{2,}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamableHttp": "http"}

Transport = Literal["stdio", "http"]


class McpConfigError(Exception):
    """The MCP config file is unusable; ``str()`` is one line naming the server and the fix."""


@dataclass(frozen=True)
class McpServerConfig:
    """One entry of ``mcpServers``, its ``${VAR}`` references already read."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    risk: Risk = "external"
    tools: frozenset[str] | None = None
    channels: frozenset[str] | None = None

    @property
    def transport(self) -> Transport:
        return "stdio" if self.command else "http"

    @property
    def where(self) -> str:
        """How it is reached, for log lines and doctor: the command or the URL."""
        return " ".join((self.command, *self.args)) if self.command else self.url

    def allows(self, tool: str) -> bool:
        """Whether the server's own tool ``tool`` is offered at all (the ``tools`` allow-list)."""
        return self.tools is None or tool in self.tools

    def offered_in(self, scope: Scope) -> bool:
        """Whether an answer in ``scope`` gets this server's tools (the ``channels`` list)."""
        return self.channels is None or scope.channel_id in self.channels


def load_mcp_config(path: Path, environ: Mapping[str, str]) -> list[McpServerConfig]:
    """The servers of the file at ``path``, ``${VAR}`` read from ``environ``."""
    where = f"{SETTING} ({path})"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise McpConfigError(f"{SETTING} names {path}, which is not a file: fix the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise McpConfigError(f"{where} cannot be read ({type(exc).__name__})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            f"{where} is not valid JSON (line {exc.lineno}: {exc.msg}): fix it"
        ) from None
    except _Duplicate as exc:
        raise McpConfigError(f"{where} names {exc} twice: keep one") from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise McpConfigError(
            f'{where} has no "mcpServers" object: write {{"mcpServers": {{"name": {{...}}}}}}'
        )
    out = []
    for name, entry in servers.items():
        try:
            out.append(_server(name, entry, environ))
        except _Problem as problem:
            raise McpConfigError(f'{where}: server "{name}" {problem}') from None
    return out


class _Problem(Exception):
    """What is wrong with one server entry, said after its name."""


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(f'"{key}"')
        seen[key] = value
    return seen


def _server(name: str, entry: Any, environ: Mapping[str, str]) -> McpServerConfig:
    if not _NAME.match(name):
        raise _Problem(
            "has a name that cannot prefix tool names: use up to 32 letters, digits, _ or -"
        )
    if not isinstance(entry, dict):
        raise _Problem('is not an object: give it "command" (stdio) or "url" (streamable HTTP)')
    transport = _transport(entry)
    risk = entry.get("risk", "external")
    if risk not in get_args(Risk):
        raise _Problem(f'has "risk": {json.dumps(risk)}: use "read", "write" or "external"')
    tools = _names(entry, "tools")
    channels = _names(entry, "channels")
    if channels is not None and (bad := sorted(c for c in channels if not _CHANNEL.match(c))):
        raise _Problem(
            f'lists {bad[0]!r} in "channels": use channel ids (like C0123ABCD, from the '
            "channel's details), not names"
        )
    common: dict[str, Any] = {"name": name, "risk": risk, "tools": tools, "channels": channels}
    if transport == "stdio":
        command = _expand(_text(entry, "command"), environ)
        args = tuple(_expand(arg, environ) for arg in _strings(entry, "args"))
        env = {key: _expand(value, environ) for key, value in _mapping(entry, "env").items()}
        cwd = entry.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise _Problem('has a "cwd" that is not a string')
        return McpServerConfig(command=command, args=args, env=env, cwd=cwd, **common)
    url = _expand(_text(entry, "url"), environ)
    if not url.startswith(("http://", "https://")):
        raise _Problem(f'has "url": {url!r}: it must start with http:// or https://')
    headers = {key: _expand(value, environ) for key, value in _mapping(entry, "headers").items()}
    return McpServerConfig(url=url, headers=headers, **common)


def _transport(entry: dict[str, Any]) -> Transport:
    declared = entry.get("type")
    if declared is not None and declared not in _TYPES:
        raise _Problem(
            f'has "type": {json.dumps(declared)}: Teammate speaks "stdio" and streamable '
            '"http" (an SSE-only server needs its streamable HTTP endpoint)'
        )
    has_command, has_url = "command" in entry, "url" in entry
    if has_command == has_url:
        raise _Problem('needs exactly one of "command" (stdio) and "url" (streamable HTTP)')
    transport = cast(Transport, "stdio" if has_command else "http")
    if declared is not None and _TYPES[declared] != transport:
        raise _Problem(f'has "type": "{declared}" but {"a command" if has_command else "a url"}')
    return transport


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f'has a "{key}" that is not a non-empty string')
    return value


def _strings(entry: dict[str, Any], key: str) -> list[str]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Problem(f'has "{key}" that is not a list of strings')
    return value


def _mapping(entry: dict[str, Any], key: str) -> dict[str, str]:
    value = entry.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _Problem(f'has "{key}" that is not an object of strings')
    return value


def _names(entry: dict[str, Any], key: str) -> frozenset[str] | None:
    if key not in entry or entry[key] is None:
        return None
    names = _strings(entry, key)
    if not names:
        raise _Problem(f'has an empty "{key}" list: list at least one, or leave it out for all')
    return frozenset(names)


def _expand(value: str, environ: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        variable, default = match.group(1), match.group(2)
        if variable in environ:
            return environ[variable]
        if default is not None:
            return default
        raise _Problem(
            f"refers to ${{{variable}}}, which is not set: set it in the bot's environment "
            f"or write ${{{variable}:-default}}"
        )

    return _VARIABLE.sub(replace, value)
