"""Slack-facing helpers: the Web API client, context building, reply streaming and rendering."""
