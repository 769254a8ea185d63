"""Scripted replies shared by the fake model servers.

Tests describe what the "model" should do next (stream text, call tools, fail in a given way)
with these small dataclasses; each fake server turns them into its provider's real wire format.
The same script therefore drives the Anthropic and the OpenAI-compatible fake alike.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

PARTIAL_TEXT = "This answer starts normally but never gets to the end of what it meant to say."
"""Text used by `Drop` and `StreamError` when none is given: long enough to cut anywhere."""


@dataclass(frozen=True)
class ServerTool:
    """A tool the provider runs itself inside one turn (Anthropic's ``web_search`` or
    ``web_fetch``): its call, then its result, before the turn's text. ``pages`` are the
    (title, url) it found (a search) or read (a fetch: one); ``error`` a web tool error code
    (``max_uses_exceeded``, ``url_not_accessible``...) instead of pages."""

    name: Literal["web_search", "web_fetch"]
    args: dict[str, Any] = field(default_factory=dict)
    pages: Sequence[tuple[str, str]] = ()
    error: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Text:
    """A plain answer, streamed piece by piece (thinking first when given, then the server
    tools the provider ran, as an Anthropic turn with web search has them)."""

    text: str = "ok"
    chunk_size: int | None = None
    delay: float = 0.0
    thinking: str | None = None
    stop_reason: str = "end_turn"
    server_tools: Sequence[ServerTool] = ()


@dataclass(frozen=True)
class ToolUse:
    """One tool call inside a `ToolCalls` turn; `id` is generated when left out."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ToolCalls:
    """A tool-use turn: optional thinking and text, then the calls."""

    calls: Sequence[ToolUse]
    text: str | None = None
    thinking: str | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Status:
    """An HTTP error answered in the provider's JSON error shape.

    `error_type` and `message` default per provider and status code; `error_code` becomes
    Anthropic's `error.details.error_code` or OpenAI's `error.code`.
    """

    code: int
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class Drop:
    """Start streaming, then abort the TCP connection after `after_pieces` pieces.

    `after_pieces=None` aborts before any response byte is sent (a connection error rather
    than a broken stream).
    """

    after_pieces: int | None = 0
    text: str = PARTIAL_TEXT
    delay: float = 0.0


@dataclass(frozen=True)
class StreamError:
    """Start streaming, then send the provider's mid-stream error event and end the body.

    A non-streaming request gets the matching HTTP error instead.
    """

    after_pieces: int = 0
    error_type: str = "overloaded_error"
    text: str = PARTIAL_TEXT
    message: str | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for `seconds`; then answer `then`, or abort."""

    seconds: float
    then: Reply | None = None


@dataclass(frozen=True)
class Dynamic:
    """Decide the reply from the request body at request time (sync or async `fn`)."""

    fn: Callable[[dict[str, Any]], Reply | Awaitable[Reply]]


Reply = Text | ToolCalls | Status | Drop | StreamError | Hang | Dynamic


async def resolve(reply: Reply, body: dict[str, Any]) -> Reply:
    """Run `Dynamic` replies (possibly nested) until a concrete reply comes out."""
    for _ in range(10):
        if not isinstance(reply, Dynamic):
            return reply
        result = reply.fn(body)
        reply = await result if inspect.isawaitable(result) else result
    raise RuntimeError("Dynamic replies nested too deeply")


# ---------------------------------------------------------------------------------------------
# Pieces: what a streamed reply is made of, independent of the wire format.

_WORD = re.compile(r"\s+|\S+\s*")


def split_pieces(text: str, chunk_size: int | None = None) -> list[str]:
    """Cut text into token-like pieces: words with their trailing whitespace, or fixed sizes."""
    if not text:
        return []
    if chunk_size:
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    return _WORD.findall(text)


ARGS_CHUNK = 12
"""Characters per streamed piece of tool-call arguments, so clients must reassemble them."""


@dataclass
class Block:
    """One content block of a turn: thinking, text, or a tool call (JSON arguments in pieces)."""

    kind: Literal["thinking", "text", "tool_use", "server_tool_use", "server_tool_result"]
    pieces: list[str]
    name: str = ""
    id: str = ""
    args: dict[str, Any] = field(default_factory=dict)
    server: ServerTool | None = None

    @property
    def content(self) -> str:
        return "".join(self.pieces)


def plan_blocks(
    reply: Text | ToolCalls | Drop | StreamError, new_id: Callable[[], str]
) -> list[Block]:
    """Lay a reply out as the blocks a model would produce, in order."""
    blocks: list[Block] = []
    if isinstance(reply, Text):
        if reply.thinking:
            blocks.append(Block("thinking", split_pieces(reply.thinking, reply.chunk_size)))
        for tool in reply.server_tools:
            call_id = tool.id or "srv" + new_id()
            args = split_pieces(json.dumps(tool.args), ARGS_CHUNK)
            blocks.append(Block("server_tool_use", args, tool.name, call_id, dict(tool.args)))
            blocks.append(Block("server_tool_result", [], tool.name, call_id, server=tool))
        blocks.append(Block("text", split_pieces(reply.text, reply.chunk_size)))
    elif isinstance(reply, ToolCalls):
        if reply.thinking:
            blocks.append(Block("thinking", split_pieces(reply.thinking)))
        if reply.text:
            blocks.append(Block("text", split_pieces(reply.text)))
        for call in reply.calls:
            args_json = json.dumps(call.args)
            blocks.append(
                Block(
                    "tool_use",
                    split_pieces(args_json, ARGS_CHUNK),
                    name=call.name,
                    id=call.id or new_id(),
                    args=dict(call.args),
                )
            )
    else:
        blocks.append(Block("text", split_pieces(reply.text)))
    return blocks


def piece_count(blocks: Sequence[Block]) -> int:
    """Output "tokens" reported in usage: one per streamed piece, at least one."""
    return max(1, sum(len(b.pieces) for b in blocks))


def approx_tokens(*parts: Any) -> int:
    """A rough input-token count (4 characters a token), enough for usage and count_tokens."""
    size = sum(len(p) if isinstance(p, str) else len(json.dumps(p, default=str)) for p in parts)
    return max(1, size // 4)


# ---------------------------------------------------------------------------------------------
# Helpers for dynamic replies.


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the latest user message with text, in either provider's request shape."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [
                b.get("text", "")
                for b in content
                if isinstance(b, dict) and b.get("type") == "text"
            ]
            if texts:
                return "\n".join(texts)
    return ""


def echo(prefix: str = "") -> Dynamic:
    """A reply that repeats the last user message (handy to see what reached the model)."""
    return Dynamic(lambda body: Text(prefix + last_user_text(body)))


# ---------------------------------------------------------------------------------------------
# JSON reply specs, for scripting a fake that runs in another process.

_KINDS: dict[str, type] = {
    "text": Text,
    "tool_calls": ToolCalls,
    "status": Status,
    "drop": Drop,
    "stream_error": StreamError,
    "hang": Hang,
}


def reply_from_spec(spec: dict[str, Any]) -> Reply:
    """Build a reply from {"kind": ..., <dataclass fields>}; kind "echo" takes "prefix"."""
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"reply spec needs a 'kind': {spec!r}")
    values = {k: v for k, v in spec.items() if k != "kind"}
    kind = spec["kind"]
    if kind == "echo":
        return echo(str(values.get("prefix", "")))
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown reply kind {kind!r}; known: {sorted(_KINDS) + ['echo']}")
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown fields for {kind!r}: {sorted(unknown)}")
    if cls is ToolCalls:
        values["calls"] = [ToolUse(**c) for c in values.get("calls", [])]
    if cls is Text and values.get("server_tools"):
        values["server_tools"] = [ServerTool(**t) for t in values["server_tools"]]
    if cls is Hang and values.get("then") is not None:
        values["then"] = reply_from_spec(values["then"])
    return cls(**values)
