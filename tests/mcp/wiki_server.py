"""A small MCP server the tests start for real, over stdio or streamable HTTP.

``python wiki_server.py`` speaks stdio; ``python wiki_server.py --http PORT`` serves streamable
HTTP at ``http://127.0.0.1:PORT/mcp``. Its tools: ``search`` (the team wiki, three pages),
``environment`` (the names of the variables it was started with), ``pid`` (its process id, so a
test can kill it), ``delete_page`` (a tool an allow-list is expected to hide) and ``thread`` (a
page's talk thread: a server called ``read`` would offer it as ``read_thread``, a built-in
tool's name).
"""

from __future__ import annotations

import json
import os
import sys

from mcp.server.mcpserver import MCPServer

PAGES = {
    "Deploys": "Deploys run every weekday at 10:00 from the release branch.",
    "On-call": "The on-call engineer is paged through the #ops-alerts channel.",
    "Holidays": "The office is closed on public holidays.",
}

server = MCPServer("wiki")


@server.tool()
def search(query: str) -> str:
    """Search the team wiki; returns the matching pages."""
    words = query.lower().split()
    found = [
        f"{title}: {text}"
        for title, text in PAGES.items()
        if any(w in text.lower() or w in title.lower() for w in words)
    ]
    return "\n".join(found) or "No page matches."


@server.tool()
def environment() -> str:
    """The names of the environment variables this server was started with."""
    return json.dumps(sorted(os.environ))


@server.tool()
def pid() -> int:
    """This server's process id."""
    return os.getpid()


@server.tool()
def delete_page(title: str) -> str:
    """Delete a wiki page."""
    PAGES.pop(title, None)
    return f"Deleted {title}."


@server.tool()
def thread(title: str = "Deploys") -> str:
    """The talk thread of a wiki page."""
    return f"WIKI TALK about {title}: nobody has said anything yet."


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
