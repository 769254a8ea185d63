"""The names of Teammate's own tools, which no MCP server's tool may take.

They are a contract: tests outside the project drive a scripted model through them. An MCP
tool is offered under its server's prefix (server ``read``, tool ``thread`` → ``read_thread``),
so a server could otherwise shadow a built-in tool, or make every answer where both are
offered fail on the clash. Built-ins always win: such a tool is left out of its server's list.

Besides the function tools the registry holds, the set names the provider's own server tools
(``web_search``, ``web_fetch``), sent under those names where the model has them, and
``update_plan``, the name kept for the checklist tool of long tasks.
"""

from __future__ import annotations

BUILT_IN_TOOL_NAMES = frozenset(
    {
        "read_thread",
        "read_channel",
        "get_user",
        "search_knowledge",
        "memory",
        "update_plan",
        "start_task",
        "web_search",
        "web_fetch",
    }
)
