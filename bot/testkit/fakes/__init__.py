"""Local fake model servers speaking the real Anthropic and OpenAI wire formats.

Tests and benchmarks point the real SDKs at these over real HTTP, so nothing reaches the
internet and failures (rate limits, overload, dropped streams, hangs) can be staged on cue.

    async with FakeAnthropic() as server:
        server.script(Text("Hello there"), Status(429, retry_after=1))
        client = AsyncAnthropic(base_url=server.base_url, api_key="test", max_retries=0)

    async with FakeOpenAI() as server:
        client = AsyncOpenAI(base_url=server.v1_url, api_key="test", max_retries=0)
"""

from typing import TYPE_CHECKING, Any

from .base import FakeServer, RecordedRequest
from .script import (
    Drop,
    Dynamic,
    Hang,
    Reply,
    ServerTool,
    Status,
    StreamError,
    Text,
    ToolCalls,
    ToolUse,
    echo,
    last_user_text,
    reply_from_spec,
)

if TYPE_CHECKING:
    from .anthropic_server import FakeAnthropic, thinking_signature
    from .openai_server import FakeOpenAI

# The servers load lazily so `python -m bot.testkit.fakes.<server>` does not import itself twice.
_LAZY = {
    "FakeAnthropic": "anthropic_server",
    "thinking_signature": "anthropic_server",
    "FakeOpenAI": "openai_server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Drop",
    "Dynamic",
    "FakeAnthropic",
    "FakeOpenAI",
    "FakeServer",
    "Hang",
    "RecordedRequest",
    "Reply",
    "ServerTool",
    "Status",
    "StreamError",
    "Text",
    "ToolCalls",
    "ToolUse",
    "echo",
    "last_user_text",
    "reply_from_spec",
    "thinking_signature",
]
