"""MCP servers' tools in the registry, each server kept connected in the background.

Each configured server (:mod:`bot.core.tools.mcp_config`) becomes a pydantic-ai ``MCPToolset``
(stdio through fastmcp's ``StdioTransport``, streamable HTTP by URL), prefixed with the server's
name (``wiki_search``), filtered to its ``tools`` allow-list, offered in its ``channels``, and
guarded by the registry like every tool (timeout, cap, errors as text). Its ``risk`` is recorded
for each tool it lists, so :meth:`ToolRegistry.risk` answers for ``wiki_search`` too.

A tool whose prefixed name is a built-in tool's (server ``read``, tool ``thread``: ``read_thread``;
see :mod:`bot.core.tools.builtin_names`, and any function tool of the registry) is left out,
with one log line per connection and a ``teammate doctor`` line: built-ins always win, and two
tools of one name would make pydantic-ai refuse every answer offered both.

Why a supervisor of our own: pydantic-ai connects a toolset when a run enters it, so a server
that is down would make every answer wait for its connect timeout, and one that died mid-run
would fail the run. Here one background task per server owns the connection: it connects,
checks it with a ping now and then (at once after a call failed oddly), and when the server
will not start or dies it logs one line saying which and why, leaves its tools out, and tries
again with a growing pause until it is back. An answer only ever sees the servers that are up;
entering the toolset in a run is a no-op.

A stdio server starts with a minimal environment: PATH, HOME and the locale variables, plus the
``env`` its entry names. The MCP SDK adds its own short list of harmless ones (LOGNAME, SHELL,
TERM, USER); never the bot's tokens or keys. Its stderr goes to ``mcp-<name>.log`` in the log
folder, whose last line says why a server that exits at start did so.

The MCP client and SDK take about a second to import, so they are imported when the first
server is set up: a bot without MCP servers never loads them.

Usage::

    servers = McpServers(load_mcp_config(path, os.environ), environ=os.environ, log_dir=data)
    servers.register(registry)
    await servers.start()      # returns once each server has had its first try (or ``wait``)
    ...
    await servers.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from pydantic_ai import RunContext
from pydantic_ai.exceptions import ModelRetry, ToolFailed
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from bot.core.conversation import Scope
from bot.core.deps import AnswerDeps
from bot.core.events import Risk
from bot.core.redact import redact
from bot.core.tools.builtin_names import BUILT_IN_TOOL_NAMES
from bot.core.tools.guard import PASS_THROUGH
from bot.core.tools.mcp_config import SETTING, McpServerConfig
from bot.core.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from pydantic_ai.mcp import MCPToolset

log = logging.getLogger("teammate.mcp")

_INHERITED = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ")

State = Literal["starting", "up", "down"]


@dataclass(frozen=True, slots=True)
class Timings:
    """How patiently servers are kept up. ``connect`` bounds a start (``npx`` servers may
    fetch a package first); pauses between tries grow from ``first_retry`` to ``last_retry``;
    a connected server is pinged every ``ping_every`` seconds."""

    connect: float = 30.0
    first_retry: float = 1.0
    last_retry: float = 60.0
    ping_every: float = 15.0
    ping_timeout: float = 10.0
    list_timeout: float = 5.0


def server_environment(config: McpServerConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """What a stdio server starts with: PATH, HOME and the locale (LANG, LANGUAGE, LC_*, TZ)
    from ``environ``, then the ``env`` of its entry."""
    kept = {
        name: value
        for name, value in environ.items()
        if name in _INHERITED or name.startswith("LC_")
    }
    return kept | dict(config.env)


@dataclass(frozen=True, slots=True)
class ServerCheck:
    """One server tried once, for ``teammate doctor``: its tools (prefixed) or the problem."""

    config: McpServerConfig
    tools: tuple[str, ...] = ()
    problem: str = ""
    unknown: tuple[str, ...] = ()
    """Names of its ``tools`` allow-list that the server does not have."""
    refused: tuple[str, ...] = ()
    """Its tools left out because, prefixed, they are named like a built-in tool."""

    @property
    def ok(self) -> bool:
        return not self.problem


STOP_SECONDS = 10.0
"""How long stopping waits for the servers' connections to close."""


class McpServer:
    """One configured server: its tools for the registry and the task that keeps it up."""

    def __init__(
        self,
        config: McpServerConfig,
        *,
        environ: Mapping[str, str],
        log_dir: Path,
        timings: Timings,
    ) -> None:
        self.config = config
        self.timings = timings
        self.log_file = log_dir / f"mcp-{config.name}.log"
        self.state: State = "starting"
        self.problem = ""
        self._reported = False  # its being down is logged once, until it is up again
        self.tool_names: frozenset[str] = frozenset()
        self.built_in: Callable[[str], bool] = BUILT_IN_TOOL_NAMES.__contains__
        """Whether a (prefixed) name is a built-in tool's; the registry's own tools join it."""
        self._child_env = server_environment(config, environ) if config.command else {}
        self._live = _LiveTools(self._new_toolset(), self)
        self.toolset: AbstractToolset[AnswerDeps] = self._live.prefixed(config.name)
        self._suspect = asyncio.Event()
        self.tried = asyncio.Event()
        """Set once the first connection attempt has ended, either way."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def up(self) -> bool:
        return self.state == "up"

    def offered(self, scope: Scope) -> bool:
        """Whether an answer in ``scope`` gets this server's tools now."""
        return self.up and self.config.offered_in(scope)

    def risk(self, name: str) -> Risk:
        """The risk of the tool ``name`` (prefixed) if this server listed it; else KeyError."""
        if name in self.tool_names:
            return self.config.risk
        raise KeyError(name)

    def listed(self, names: Sequence[str]) -> None:
        """The server's tools as last listed (its own names, allow-list applied)."""
        self.tool_names = frozenset(f"{self.name}_{name}" for name in names)

    def allows(self, tool: str) -> bool:
        """Whether the server's own tool ``tool`` is offered: in its allow-list, and not named
        like a built-in tool once prefixed."""
        return self.config.allows(tool) and not self.built_in(f"{self.name}_{tool}")

    def refused(self, tools: Sequence[str]) -> tuple[str, ...]:
        """Of the server's own ``tools`` (allowed by its entry), those left out because their
        prefixed names are built-in tools' names."""
        return tuple(
            f"{self.name}_{tool}"
            for tool in tools
            if self.config.allows(tool) and self.built_in(f"{self.name}_{tool}")
        )

    def suspect(self, error: BaseException) -> None:
        """A call failed in a way the server's own tool errors do not: check the connection."""
        log.info("MCP server %s: a call failed (%s); checking it", self.name, type(error).__name__)
        self._suspect.set()

    async def run(self) -> None:
        """Keep the server connected until cancelled."""
        pause = self.timings.first_retry
        while True:
            was_up, why = await self._connected_once()
            if was_up:  # it served for a while: start again from the shortest pause
                pause = self.timings.first_retry
            self._down(why, pause)
            self.tried.set()
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.timings.last_retry)

    async def check(self) -> ServerCheck:
        """Connect once, list the tools and disconnect (``teammate doctor``)."""
        toolset = self._new_toolset()
        try:
            async with toolset:
                with anyio.fail_after(self.timings.connect):
                    listed = [tool.name for tool in await toolset.list_tools()]
        except Exception as exc:  # noqa: BLE001 - every way of not starting is one line
            return ServerCheck(self.config, problem=self._why(exc))
        tools = tuple(f"{self.name}_{name}" for name in listed if self.allows(name))
        unknown = tuple(sorted((self.config.tools or frozenset()) - set(listed)))
        return ServerCheck(self.config, tools, unknown=unknown, refused=self.refused(listed))

    async def _connected_once(self) -> tuple[bool, str]:
        """Connect and serve until the connection is lost: whether it was up, and why it ended."""
        toolset = self._new_toolset()
        was_up, why = False, ""
        try:
            async with toolset:
                with anyio.fail_after(self.timings.connect):
                    tools = await toolset.list_tools()
                self._live.wrapped = toolset
                self.listed([tool.name for tool in tools if self.allows(tool.name)])
                self.state, self.problem, self._reported = "up", "", False
                was_up = True
                self.tried.set()
                log.info("MCP server %s is up with %d tools", self.name, len(self.tool_names))
                if unknown := sorted((self.config.tools or set()) - {t.name for t in tools}):
                    log.warning(
                        'MCP server %s has no tool %s named in its "tools"',
                        self.name,
                        ", ".join(unknown),
                    )
                if refused := self.refused([tool.name for tool in tools]):
                    log.warning(
                        "MCP server %s: %s left out, named like a built-in tool (built-ins "
                        "win): give the server another name in %s",
                        self.name,
                        ", ".join(refused),
                        SETTING,
                    )
                why = await self._watch(toolset)
                # Down before the connection closes, so no answer picks it up; with its reason,
                # so nobody reads a down server with no problem.
                self.state, self.problem = "down", why
        except Exception as exc:  # noqa: BLE001 - a server's failure must never reach the bot
            why = why or self._why(exc)
        return was_up, why

    async def _watch(self, toolset: MCPToolset[AnswerDeps]) -> str:
        """Wait until a ping goes unanswered; why. A server may answer ``ping`` with "method
        not found" (the MCP SDK's own server does on a modern session): that is an answer."""
        from mcp import MCPError
        from mcp.types import METHOD_NOT_FOUND

        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timings.ping_every):
                    await self._suspect.wait()
            self._suspect.clear()
            try:
                with anyio.fail_after(self.timings.ping_timeout):
                    await toolset.client.ping()
            except MCPError as exc:
                if exc.code != METHOD_NOT_FOUND:  # a server without ping still answered
                    return self._why(exc)
            except Exception as exc:  # noqa: BLE001
                return self._why(exc)

    def _down(self, why: str, pause: float) -> None:
        again = self._reported
        self.state, self.problem, self._reported = "down", why, True
        if not again:
            log.warning(
                "MCP server %s is down: %s; its tools are left out, next try in %g s",
                self.name,
                why,
                pause,
            )
        else:
            log.debug("MCP server %s still down: %s; next try in %g s", self.name, why, pause)

    def _new_toolset(self) -> MCPToolset[AnswerDeps]:
        from fastmcp.client.transports import StdioTransport
        from pydantic_ai.mcp import MCPToolset

        config = self.config
        common: dict[str, Any] = {
            "id": config.name,
            # A tool error from the server reaches the model as text without using a retry.
            "tool_error_behavior": "failed",
            "init_timeout": self.timings.connect,
        }
        if config.transport == "stdio":
            transport = StdioTransport(
                command=config.command,
                args=list(config.args),
                env=self._child_env,
                cwd=config.cwd,
                keep_alive=False,
                log_file=self.log_file,
            )
            return MCPToolset(transport, **common)
        return MCPToolset(config.url, headers=dict(config.headers) or None, **common)

    def _why(self, error: BaseException) -> str:
        """One short line: why the server is not usable."""
        while isinstance(error, BaseExceptionGroup) and error.exceptions:
            error = error.exceptions[0]
        text = str(error).removeprefix("Client failed to connect: ").strip()
        config = self.config
        if isinstance(error, TimeoutError):
            return "it did not answer in time"
        if "No such file or directory" in text and config.transport == "stdio":
            return f"its command {config.command!r} was not found"
        if "Connection closed" in text:
            if config.transport == "http":
                return "it closed the connection"
            last = _last_line(self.log_file)
            return "its process exited" + (f" ({last})" if last else "")
        refused = "connection attempts failed" in text.lower()
        if refused or "connect" in type(error).__name__.lower():
            return f"nothing answers at {config.url}"
        secrets = [*config.env.values(), *config.headers.values()]
        return redact(text or type(error).__name__, secrets)[:200]


@dataclass
class _LiveTools(WrapperToolset[AnswerDeps]):
    """The server's current connection while it is up; no tools while it is down. The
    supervisor owns the connection, so a run entering or leaving this toolset does nothing."""

    server: McpServer

    async def __aenter__(self) -> _LiveTools:
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        return None

    async def get_tools(self, ctx: RunContext[AnswerDeps]) -> dict[str, ToolsetTool[AnswerDeps]]:
        server = self.server
        if not server.up:
            return {}
        try:
            with anyio.fail_after(server.timings.list_timeout):
                tools = await self.wrapped.get_tools(ctx)
        except Exception as exc:  # noqa: BLE001 - a server that cannot list offers nothing
            server.suspect(exc)
            return {}
        allowed = {name: tool for name, tool in tools.items() if server.allows(name)}
        server.listed(list(allowed))
        return allowed

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AnswerDeps],
        tool: ToolsetTool[AnswerDeps],
    ) -> Any:
        if not self.server.up:
            raise ToolFailed(f"The {self.server.name} server is not available right now.")
        try:
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        except ModelRetry as retry:
            # MCPToolset raises ModelRetry for protocol errors ("Connection closed"): spending
            # the model's retries on a server that may be gone could end the answer.
            if retry.__cause__ is None:
                raise
            self.server.suspect(retry.__cause__)
            raise ToolFailed(f"The {self.server.name} server failed: {retry.message}") from None
        except PASS_THROUGH:
            raise
        except Exception as exc:
            self.server.suspect(exc)
            raise


class McpServers:
    """Every configured server: registered once, started and stopped with the bot."""

    def __init__(
        self,
        configs: Sequence[McpServerConfig] = (),
        *,
        environ: Mapping[str, str] | None = None,
        log_dir: Path = Path("."),
        timings: Timings | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.servers = [
            McpServer(config, environ=environ or {}, log_dir=log_dir, timings=timings or Timings())
            for config in configs
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def register(self, registry: ToolRegistry) -> None:
        """Offer every server's tools through ``registry``; a tool named like one of the
        registry's own (asked when listing, so tools added later count too) is left out."""

        def built_in(name: str) -> bool:
            return name in BUILT_IN_TOOL_NAMES or registry.has(name)

        for server in self.servers:
            server.built_in = built_in
            registry.add_toolset(server.toolset, risks=server.risk, offered=server.offered)

    async def start(self, wait: float = 10.0) -> None:
        """Start keeping every server up; return once each has had its first try, or after
        ``wait`` seconds (the rest go on in the background)."""
        if not self.servers:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for server in self.servers:
            self._tasks.append(asyncio.create_task(server.run(), name=f"mcp-{server.name}"))
        tried = [asyncio.ensure_future(server.tried.wait()) for server in self.servers]
        _, waiting = await asyncio.wait(tried, timeout=wait)
        for future in waiting:
            future.cancel()

    async def stop(self) -> None:
        """Disconnect every server (a stdio server's process ends)."""
        for task in self._tasks:
            task.cancel()
        # A server that does not let go in time is left behind: stopping must not hang.
        _, stuck = (
            await asyncio.wait(self._tasks, timeout=STOP_SECONDS) if self._tasks else ((), ())
        )
        for task in stuck:
            log.warning("MCP server connection %s did not close in time", task.get_name())
        self._tasks.clear()

    async def check(self) -> list[ServerCheck]:
        """Try every server once, at the same time."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return list(await asyncio.gather(*(server.check() for server in self.servers)))

    def get(self, name: str) -> McpServer:
        return next(server for server in self.servers if server.name == name)


def _last_line(path: Path) -> str:
    """The last non-empty line of a server's stderr log, shortened and redacted."""
    try:
        with path.open("rb") as file:
            file.seek(0, 2)
            file.seek(max(0, file.tell() - 2000))
            lines = file.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return redact(last)[:160]
