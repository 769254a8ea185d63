"""Real MCP servers for the tests, and what starts them."""
