"""A small MCP server (stdio) whose one tool writes: each call of ``record`` appends its entry
to the file named by ``LEDGER_FILE``, so a test can count how often the tool really ran."""

from __future__ import annotations

import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer

server = MCPServer("ledger")


@server.tool()
def record(entry: str) -> str:
    """Record an entry in the team's ledger."""
    path = Path(os.environ["LEDGER_FILE"])
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(entry + "\n")
    return f"Recorded {entry!r} as entry {len(path.read_text(encoding='utf-8').splitlines())}."


if __name__ == "__main__":
    server.run()
