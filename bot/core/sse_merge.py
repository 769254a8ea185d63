"""A model's server-sent events with runs of text deltas merged: fewer events, the same text.

Why: every event a provider streams costs the bot about the same whatever it carries. The SDK
decodes it and builds its typed model (a pydantic validation per event); pydantic-ai maps it,
updates the response's parts and hands it through several async generators, each taking an
anyio lock inside a cancel scope; the core maps it and the renderer takes it. A provider sends
one event per token (Anthropic's ``content_block_delta`` carries a few characters), so a
2,000-token answer is 2,000 trips through all of that. Merging the deltas that arrived together
before the SDK reads them makes the trips fewer, while the text, its order and every other
event stay exactly as sent. No library offers this: the SDKs parse what they are given, and
pydantic-ai maps what the SDK yields.

Only what is unmistakably a delta of one text is merged, and only with the delta just before
it in the same read:

- Anthropic: ``content_block_delta`` events of the same block whose delta is a ``text_delta``,
  ``thinking_delta`` or ``input_json_delta`` and has no other field;
- OpenAI-compatible: ``chat.completion.chunk`` events with one choice whose delta carries only
  ``content`` or ``reasoning_content`` (and at most an unchanged role), no finish reason, no
  log-probabilities and no usage.

Anything else — another event, a field the rules above do not name, a line ending in ``\\r``, a
comment, data that is not JSON — passes through byte for byte and ends the run before it, so
the order of events is kept. An event cut in two by the network waits for its second half.

Usage::

    merger = DeltaMerger()
    for chunk in chunks:
        out = merger.feed(chunk)      # whole events only, deltas merged
    rest = merger.flush()             # what a body that ended mid-event left
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

EVENT_END = b"\n\n"
_DATA = b"data:"
_ANTHROPIC_FIELDS = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "input_json_delta": "partial_json",
}
_OPENAI_FIELDS = ("content", "reasoning_content")
_OPENAI_QUIET = frozenset({"role"})
"""Delta fields that may sit beside the text as long as they are the same in every merged
chunk (a role is not accumulated; tool calls, refusals and the like are, so they stop a merge)."""


@dataclass(slots=True)
class _Delta:
    """A mergeable event, taken apart: its text, and the rest with that text emptied."""

    head: bytes
    """The lines before ``data:`` (Anthropic's ``event: content_block_delta``)."""
    data: dict[str, Any]
    holder: dict[str, Any]
    field: str
    texts: list[str]

    def same_stream(self, other: _Delta) -> bool:
        return self.head == other.head and self.field == other.field and self.data == other.data

    def encode(self) -> bytes:
        self.holder[self.field] = "".join(self.texts)
        text = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return b"%sdata: %s\n\n" % (self.head, text.encode())


class DeltaMerger:
    """Feeds on a body's chunks and gives back its whole events, adjacent deltas merged."""

    def __init__(self) -> None:
        self._tail = b""
        self._verbatim = False
        self.deltas = 0
        """Deltas seen so far (before merging)."""

    def feed(self, chunk: bytes) -> bytes:
        """The whole events in what has arrived so far, deltas merged; a partial event is kept
        for the next chunk."""
        if self._verbatim:
            return chunk
        if b"\r" in chunk:
            # Lines that may end in CR: pass everything through from here on, unparsed.
            self._verbatim = True
            return self.flush() + chunk
        data = self._tail + chunk if self._tail else chunk
        cut = data.rfind(EVENT_END)
        if cut < 0:
            self._tail = data
            return b""
        self._tail = data[cut + 2 :]
        return self._merged(data[:cut].split(EVENT_END))

    def flush(self) -> bytes:
        """What is left unfinished (the body ended mid-event), as it arrived."""
        rest, self._tail = self._tail, b""
        return rest

    def _merged(self, blocks: list[bytes]) -> bytes:
        out: list[bytes] = []
        run: _Delta | None = None
        for block in blocks:
            delta = _delta(block)
            if delta is not None:
                self.deltas += 1
                if run is not None and run.same_stream(delta):
                    run.texts.append(delta.texts[0])
                    continue
            if run is not None:
                out.append(run.encode())
            run = delta
            if delta is None:
                out.append(block + EVENT_END)
        if run is not None:
            out.append(run.encode())
        return b"".join(out)


def _delta(block: bytes) -> _Delta | None:
    """The event as a mergeable delta, or None to pass it through as it is."""
    head, _, line = block.rpartition(b"\n")
    if not line.startswith(_DATA) or (head and (b"\n" in head or not head.startswith(b"event:"))):
        return None
    try:
        data = json.loads(line[len(_DATA) :])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    head = head + b"\n" if head else b""
    found = _anthropic_text(data) or _openai_text(data)
    if found is None:
        return None
    holder, field = found
    text = holder[field]
    holder[field] = ""
    return _Delta(head, data, holder, field, [text])


def _anthropic_text(data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    if data.get("type") != "content_block_delta" or len(data) != 3 or "index" not in data:
        return None
    delta = data.get("delta")
    if not isinstance(delta, dict) or len(delta) != 2:
        return None
    field = _ANTHROPIC_FIELDS.get(delta.get("type"))  # type: ignore[arg-type]
    if field is None or not isinstance(delta.get(field), str):
        return None
    return delta, field


def _openai_text(data: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    if data.get("object") != "chat.completion.chunk" or data.get("usage") is not None:
        return None
    choices = data.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    if choice.get("finish_reason") is not None or choice.get("logprobs") is not None:
        return None
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        return None
    texts = [f for f in _OPENAI_FIELDS if isinstance(delta.get(f), str)]
    if len(texts) != 1:
        return None
    field = texts[0]
    for key, value in delta.items():
        if key != field and value is not None and key not in _OPENAI_QUIET:
            return None
    return delta, field
