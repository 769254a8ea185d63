"""A local Slack: Web API emulator, signed event delivery and a control API, for tests,
benchmarks and `teammate dev`. Stands alone: imports nothing from the rest of the bot."""

from bot.sandbox.server import Sandbox

__all__ = ["Sandbox"]
