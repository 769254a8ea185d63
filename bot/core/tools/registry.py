"""The tool registry: every tool an answer may call, with its risk, its timeout and its cap.

A tool is an async function whose first parameter is pydantic-ai's ``RunContext[AnswerDeps]``;
its other parameters, their type hints and its docstring become the JSON schema and the
description the model reads (pydantic-ai builds both). The registry adds what the model must
never be left without: a timeout (``TEAMMATE_TOOL_TIMEOUT`` unless the tool sets its own), a cap
on what the model gets of a huge result, and a clear message instead of an exception — all three
through :class:`~bot.core.tools.guard.GuardedToolset`, which wraps MCP servers' toolsets too.

Each tool says where it is offered (``offered(scope)``), so the toolsets an answer gets depend on
its channel. Usage::

    registry = ToolRegistry(tool_timeout=30)
    registry.add(ToolDef(read_thread, risk="read", title=lambda args: "Reading the thread"))
    agent.run(..., toolsets=registry.toolsets(scope))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import Tool
from pydantic_ai.tools import ToolPrepareFunc
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset

from bot.core.conversation import Scope
from bot.core.deps import AnswerDeps
from bot.core.events import Risk
from bot.core.tools.guard import DEFAULT_OUTPUT_CAP, GuardedToolset

ToolFunction = Callable[..., Awaitable[Any]]


def _everywhere(scope: Scope) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One tool. ``name`` defaults to the function's name, ``description`` to its docstring.

    ``risk``: ``read`` runs at once; ``write`` and ``external`` wait for the asker's approval.
    ``timeout`` in seconds (None: the registry's default). ``title`` is what a person reads
    while the call runs, from its arguments. ``prepare`` (pydantic-ai's) may hide the tool from
    one request, for what only the run knows (the channel's memory may be off).
    """

    function: ToolFunction
    risk: Risk = "read"
    name: str = ""
    description: str = ""
    timeout: float | None = None
    title: Callable[[dict[str, Any]], str] | None = None
    offered: Callable[[Scope], bool] = _everywhere
    prepare: ToolPrepareFunc[AnswerDeps] | None = None

    @property
    def tool_name(self) -> str:
        return self.name or self.function.__name__


@dataclass(slots=True)
class _Group:
    """Tools (or one MCP server's toolset) that share a risk class and where they are offered."""

    toolset: AbstractToolset[AnswerDeps]
    offered: Callable[[Scope], bool]
    risks: Callable[[str], Risk]


@dataclass
class ToolRegistry:
    """All tools, and the toolsets one answer gets. ``tool_timeout`` is the default per call;
    ``output_cap`` the most characters of one result the model is given."""

    tool_timeout: float = 30.0
    output_cap: int = DEFAULT_OUTPUT_CAP
    _tools: dict[str, ToolDef] = field(default_factory=dict)
    _built: dict[str, Tool[AnswerDeps]] = field(default_factory=dict)
    """Each function tool as pydantic-ai's Tool, built once: building one derives its JSON
    schema from the function's signature, and doing that for every tool of every answer was
    about a third of an answer's CPU."""
    _groups: list[_Group] = field(default_factory=list)
    _risks: dict[str, Risk] = field(default_factory=dict)

    def add(self, tool: ToolDef) -> None:
        name = tool.tool_name
        if name in self._risks:
            raise ValueError(f"a tool named {name!r} is already registered")
        self._tools[name] = tool
        self._built[name] = self._tool(tool)
        self._risks[name] = tool.risk

    def add_toolset(
        self,
        toolset: AbstractToolset[AnswerDeps],
        *,
        risks: Callable[[str], Risk],
        offered: Callable[[Scope], bool] = _everywhere,
    ) -> None:
        """A toolset made elsewhere (an MCP server's); ``risks`` names each of its tools' risk."""
        guarded = GuardedToolset(toolset, timeout=self.tool_timeout, output_cap=self.output_cap)
        self._groups.append(_Group(guarded, offered, risks))

    def risk(self, name: str) -> Risk:
        """The risk class of the tool ``name``; a tool nobody vouched for is ``external``."""
        if name in self._risks:
            return self._risks[name]
        for group in self._groups:
            try:
                return group.risks(name)
            except KeyError:
                continue
        return "external"

    def title(self, name: str, args: dict[str, Any]) -> str:
        """What a person reads while the call runs."""
        tool = self._tools.get(name)
        if tool is not None and tool.title is not None:
            try:
                return tool.title(args)
            except Exception:  # noqa: BLE001 - a bad argument must not break the step line
                pass
        return name.replace("_", " ").capitalize()

    def has(self, name: str) -> bool:
        """Whether ``name`` is one of the registry's own function tools."""
        return name in self._tools

    def names(self, scope: Scope) -> list[str]:
        """The function tools offered in ``scope`` (for the Home tab and doctor)."""
        return [name for name, tool in self._tools.items() if tool.offered(scope)]

    def toolsets(self, scope: Scope) -> Sequence[AbstractToolset[AnswerDeps]]:
        """The toolsets an answer in ``scope`` gets: the function tools offered there, guarded,
        and every toolset group offered there."""
        tools = [self._built[n] for n, t in self._tools.items() if t.offered(scope)]
        out: list[AbstractToolset[AnswerDeps]] = []
        if tools:
            functions: FunctionToolset[AnswerDeps] = FunctionToolset(tools)
            out.append(
                GuardedToolset(
                    functions,
                    timeout=self.tool_timeout,
                    output_cap=self.output_cap,
                    timeouts={n: t.timeout for n, t in self._tools.items() if t.timeout},
                )
            )
        out.extend(group.toolset for group in self._groups if group.offered(scope))
        return out

    @staticmethod
    def _tool(tool: ToolDef) -> Tool[AnswerDeps]:
        return Tool(
            tool.function,
            takes_ctx=True,
            name=tool.tool_name,
            description=tool.description or None,
            metadata={"risk": tool.risk},
            prepare=tool.prepare,
        )
