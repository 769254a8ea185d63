"""Keeps a run's history inside its model's window as tool results pile up.

The thread is fitted into the window once, before the run (:mod:`bot.core.window`); a long run
then grows by every tool result it gets, and without care its 30th request would be refused
for its length. :class:`ContextKeeper` looks at every attempt at a model request (pydantic-ai's
``prepare_model_request``, where the model that will serve it is known): when the request's
estimated tokens pass :data:`CLEAR_AT` of the serving model's room for input, it clears the
oldest tool results until the request is under :data:`CLEAR_TO`. A cleared result keeps its
place and its call, with a short note instead of its content (which tool, how long it was, and
that it can be called again), so a call is never split from its result and the model knows
what it no longer has; when the cleared calls themselves grow too many, the oldest pairs are
folded into one note that counts them. The newest :data:`KEEP_RECENT` results and everything
else stay as they were. Only when the request would still not fit the model at all (huge text
turns) are the oldest long texts cut in their middle, with a marked gap; and, last, the results
the model has just been given. The thread itself, fitted into the window before the run, is
never cut here while it fits. Thinking blocks, and any response that has them, are never
changed: they must go back byte for byte (an old pair may be folded away whole).

The changes are made in the run's own history (``RunContext.messages``) as well as in the
request, so a cleared result stays cleared and each later request costs no more than this one.
Between the two marks nothing changes, so a provider's prompt cache keeps its prefix until the
next clearing, which frees a fifth of the window at once.

On Claude entries marked ``context_editing`` in the catalog, Anthropic's context editing does
the clearing on the server instead (``clear_tool_uses_20250919`` under the
``context-management-2025-06-27`` beta, sent through pydantic-ai's
``anthropic_context_management`` setting, which in 2.68 also adds the ``compact-2026-01-12``
beta to the header whenever it is set): the history is sent whole, and the server clears the
oldest results past the same mark. The own clearing still stands behind it, at the full
room, for the case it cannot save (texts too long for any clearing of results to help).

Tokens are estimated as :mod:`bot.core.window` does (3.5 characters a token plus the framing of
each part), scaled up when the provider reported more for the previous request than the
estimate said: the count needs no tokenizer and no extra request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestContext, ModelRequestParameters
from pydantic_ai.settings import ModelSettings

from bot.core.catalog import ModelSpec
from bot.core.deps import AnswerDeps
from bot.core.window import CHARS_PER_TOKEN

log = logging.getLogger("teammate.core.compaction")

CLEAR_AT = 0.70
"""Share of the model's room for input past which old tool results are cleared."""
CLEAR_TO = 0.50
"""Share of that room the request is brought back under once clearing starts."""
KEEP_RECENT = 3
"""Tool results, the newest, kept whatever their size."""
MIN_CLEARED_CHARS = 600
"""Results shorter than this are kept: the note that replaces one is about 200 characters."""
PART_OVERHEAD_TOKENS = 8
"""What the framing of one part costs: its role, type, id and tool name."""
LONG_TEXT_CHARS = 4_000
"""Texts longer than this may be cut in the middle when clearing results was not enough."""
KEPT_TEXT_CHARS = 1_500
"""What a cut text keeps of its start and its end, together."""
CONTEXT_EDITING_BETA = "context-management-2025-06-27"
CLEAR_TOOL_USES = "clear_tool_uses_20250919"
CLEARED_MARK = "[Result of `"


def cleared_note(tool_name: str, chars: int) -> str:
    """What a cleared tool result says instead of its content."""
    return (
        f"{CLEARED_MARK}{tool_name}` ({chars:,} characters) cleared to stay within the context "
        "window; call it again if needed.]"
    )


FRAMEWORK_KINDS = frozenset({"tool-search", "capability-load"})
"""pydantic-ai's own tool results, which it reads back from the history: never cleared."""


def is_result(part: Any) -> TypeGuard[ToolReturnPart]:
    """Whether ``part`` is a tool's result that may be cleared."""
    return isinstance(part, ToolReturnPart) and part.tool_kind not in FRAMEWORK_KINDS


def is_cleared(part: ToolReturnPart) -> bool:
    return isinstance(part.content, str) and part.content.startswith(CLEARED_MARK)


@dataclass(frozen=True, slots=True)
class Compacted:
    """The messages after compaction (the same objects where nothing changed), and what was
    done: results cleared, texts cut, call-and-result pairs folded away, and the estimate
    before and after."""

    messages: list[ModelMessage]
    cleared: int = 0
    cut: int = 0
    folded: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    replaced: dict[int, ModelMessage] = field(default_factory=dict)
    """By the id of a message given: the message that took its place."""
    removed: frozenset[int] = frozenset()
    """The ids of the messages given that were folded away."""

    def apply_to(self, history: Sequence[ModelMessage]) -> list[ModelMessage]:
        """``history`` (holding the messages given, and maybe others) with the same changes."""
        return [
            self.replaced.get(id(message), message)
            for message in history
            if id(message) not in self.removed
        ]

    @property
    def changed(self) -> bool:
        return bool(self.cleared or self.cut or self.folded)


def part_tokens(part: Any) -> int:
    """A rough token count of one message part."""
    return math.ceil(len(_part_text(part)) / CHARS_PER_TOKEN) + PART_OVERHEAD_TOKENS


def message_tokens(messages: Sequence[ModelMessage]) -> int:
    return sum(part_tokens(part) for message in messages for part in message.parts)


def fixed_tokens(parameters: ModelRequestParameters) -> int:
    """What a request sends besides its messages: instructions and tool definitions."""
    chars = sum(len(part.content) for part in parameters.instruction_parts or [])
    for tool in [*parameters.function_tools, *parameters.output_tools]:
        chars += len(tool.name) + len(tool.description or "")
        chars += len(str(tool.parameters_json_schema))
    return math.ceil(chars / CHARS_PER_TOKEN)


def request_tokens(messages: Sequence[ModelMessage], fixed: int) -> tuple[int, float]:
    """The estimate for a request of ``messages`` plus ``fixed`` tokens, and the scale it was
    multiplied by: how far the provider's count for the previous request exceeded the same
    estimate of it (at least 1, at most 3)."""
    each = [message_tokens([message]) for message in messages]
    estimate = fixed + sum(each)
    last = next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], ModelResponse)),
        None,
    )
    if last is None:
        return estimate, 1.0
    response = messages[last]
    assert isinstance(response, ModelResponse)
    reported = response.usage.input_tokens
    sent = fixed + sum(each[:last])
    if reported <= sent or sent <= 0:
        return estimate, 1.0
    scale = min(reported / sent, 3.0)
    return math.ceil(estimate * scale), scale


def compact(
    messages: Sequence[ModelMessage],
    *,
    limit: int,
    target: int,
    hard: int | None = None,
    fixed: int = 0,
    keep_recent: int = KEEP_RECENT,
) -> Compacted:
    """``messages`` brought under ``target`` tokens when they (with ``fixed``) pass ``limit``.

    Tool results go first, each stage only while still over ``target``: old results cleared,
    oldest first (not the newest ``keep_recent``, not those of the last request); then the
    oldest calls whose results are cleared folded away, pair by pair, into one note that says
    how many there were (a call and its result always go together, and the newest call of each
    tool stays, the plan's among them); then the newest results cleared too. Texts are cut only
    while the request would still pass ``hard`` (default ``limit``: the most the model takes),
    since the thread was fitted into the window before the run and its messages are not cut
    without a word: long texts of old turns in the middle, then the results of the last
    request. The input list and its messages are left as they were.
    """
    hard = limit if hard is None else hard
    before, scale = request_tokens(messages, fixed)
    if before <= limit:
        return Compacted(list(messages), tokens_before=before, tokens_after=before)
    work = _Work(list(messages), scale, before)
    older = work.results_before_last()
    recent = older[-keep_recent:] if keep_recent > 0 else []
    kept = set(map(id, recent))
    for part in [p for p in older if id(p) not in kept]:
        if work.tokens <= target:
            break
        work.clear(part)
    work.fold(target, keep_recent)
    for part in recent:
        if work.tokens <= target:
            break
        work.clear(part)
    for message in work.messages[:-2]:
        if work.tokens <= hard:
            break
        work.cut_texts(message, KEPT_TEXT_CHARS)
    for part in work.results_in_last():
        if work.tokens <= hard:
            break
        work.cut_result(part, hard)
    return Compacted(
        work.messages,
        work.cleared,
        work.cut,
        work.folded,
        before,
        work.tokens,
        replaced={
            origin: message
            for message in work.messages
            if (origin := work.origin[id(message)]) != id(message)
        },
        removed=frozenset(work.removed),
    )


class _Work:
    """Messages being compacted, with the running estimate. Parts and messages are found by
    identity through maps kept up to date, so a round of clearing is linear in the history."""

    def __init__(self, messages: list[ModelMessage], scale: float, tokens: int) -> None:
        self.messages = messages
        self.scale = scale
        self.tokens = tokens
        self.cleared = 0
        self.cut = 0
        self.folded = 0
        self.origin = {id(message): id(message) for message in messages}
        """By the id of each message now: the id of the message given that it stands for."""
        self.removed: set[int] = set()
        self._index: dict[int, int] = {}
        self._owner: dict[int, int] = {}
        self._reindex()

    def _reindex(self) -> None:
        self._index = {id(message): i for i, message in enumerate(self.messages)}
        self._owner = {id(part): id(m) for m in self.messages for part in m.parts}

    def results_before_last(self) -> list[ToolReturnPart]:
        """The tool results worth clearing, oldest first, but those of the last request."""
        return [
            part
            for message in self.messages[:-1]
            if isinstance(message, ModelRequest)
            for part in message.parts
            if is_result(part)
            and not is_cleared(part)
            and len(_part_text(part)) >= MIN_CLEARED_CHARS
        ]

    def results_in_last(self) -> list[ToolReturnPart]:
        last = self.messages[-1] if self.messages else None
        if not isinstance(last, ModelRequest):
            return []
        return [part for part in last.parts if is_result(part)]

    def clear(self, part: ToolReturnPart) -> None:
        note = cleared_note(part.tool_name, len(_part_text(part)))
        self._swap(part, replace(part, content=note))
        self.cleared += 1

    def fold(self, target: int, keep_recent: int) -> None:
        """Remove the oldest call-and-result pairs whose results are cleared, keeping the last
        one removed in place as a note that counts them all."""
        holder: tuple[ModelResponse, ModelRequest] | None = None
        dropped: set[int] = set()
        for response, request in self._foldable_pairs(keep_recent):
            if self.tokens <= target:
                break
            earlier = 0
            if holder is not None:
                earlier = _folded_count(holder[1]) + _calls(holder[0])
                for message in holder:
                    dropped.add(id(message))
                    self.removed.add(self.origin.pop(id(message)))
                    self.tokens -= math.ceil(message_tokens([message]) * self.scale)
            earlier += _folded_count(request)
            holder = (response, self._mark_folded(request, earlier))
            self.folded += 1
        if dropped:
            self.messages[:] = [m for m in self.messages if id(m) not in dropped]
            self._reindex()

    def _foldable_pairs(self, keep_recent: int) -> list[tuple[ModelResponse, ModelRequest]]:
        pairs: list[tuple[ModelResponse, ModelRequest]] = []
        for index in range(len(self.messages) - 2):
            response, request = self.messages[index], self.messages[index + 1]
            if _foldable(response, request):
                assert isinstance(response, ModelResponse) and isinstance(request, ModelRequest)
                pairs.append((response, request))
        kept = set(map(id, (pair[0] for pair in pairs[-keep_recent:]))) if keep_recent else set()
        newest_of_tool: dict[str, ModelResponse] = {}
        for response, _ in pairs:
            for part in response.parts:
                if isinstance(part, ToolCallPart):
                    newest_of_tool[part.tool_name] = response
        kept |= set(map(id, newest_of_tool.values()))
        return [pair for pair in pairs if id(pair[0]) not in kept]

    def _mark_folded(self, request: ModelRequest, earlier: int) -> ModelRequest:
        first = next(p for p in request.parts if is_result(p))
        note = folded_note(first.tool_name, earlier)
        marked = self._swap(first, replace(first, content=note))  # type: ignore[arg-type]
        assert isinstance(marked, ModelRequest)
        return marked

    def cut_texts(self, message: ModelMessage, keep: int) -> None:
        if isinstance(message, ModelResponse) and any(
            isinstance(part, ThinkingPart) for part in message.parts
        ):
            return  # thinking and its signature go back exactly as they came
        for part in message.parts:
            if isinstance(part, TextPart | UserPromptPart) and isinstance(part.content, str):
                if len(part.content) > LONG_TEXT_CHARS:
                    self._swap(part, replace(part, content=_cut(part.content, keep)))
                    self.cut += 1

    def cut_result(self, part: ToolReturnPart, limit: int) -> None:
        text = _part_text(part)
        over_chars = math.ceil((self.tokens - limit) / self.scale * CHARS_PER_TOKEN)
        keep = max(KEPT_TEXT_CHARS, len(text) - over_chars - 200)
        if keep < len(text):
            self._swap(part, replace(part, content=_cut(text, keep)))
            self.cut += 1

    def _swap(self, old_part: Any, new_part: Any) -> ModelMessage | None:
        """Put ``new_part`` where ``old_part`` is, in a new copy of its message (returned)."""
        owner = self._owner.pop(id(old_part), None)
        if owner is None:
            return None  # no longer in the history (replaced already)
        index = self._index.pop(owner)
        message = self.messages[index]
        parts = [new_part if part is old_part else part for part in message.parts]
        new = replace(message, parts=parts)  # type: ignore[arg-type]
        self.origin[id(new)] = self.origin.pop(owner)
        self.messages[index] = new
        self._index[id(new)] = index
        for part in parts:
            self._owner[id(part)] = id(new)
        saved = part_tokens(old_part) - part_tokens(new_part)
        self.tokens -= math.ceil(saved * self.scale)
        return new


def folded_note(tool_name: str, earlier: int) -> str:
    """What the one pair left of folded calls says instead of its result."""
    return (
        f"{CLEARED_MARK}{tool_name}` cleared, and {earlier:,} earlier tool calls removed with "
        "their results, to stay within the context window; call a tool again if you need its "
        "result.]"
    )


_FOLDED = re.compile(r"cleared, and ([\d,]+) earlier tool calls removed")


def _folded_count(request: ModelRequest) -> int:
    for part in request.parts:
        if isinstance(part, ToolReturnPart) and isinstance(part.content, str):
            found = _FOLDED.search(part.content)
            if found:
                return int(found.group(1).replace(",", ""))
    return 0


def _calls(response: ModelResponse) -> int:
    return sum(isinstance(part, ToolCallPart) for part in response.parts)


def _foldable(response: ModelMessage, request: ModelMessage) -> bool:
    """Whether ``response`` is only tool calls (with text or thinking) and ``request`` only
    their results, every one of them cleared or short: a pair that can go as a whole."""
    if not isinstance(response, ModelResponse) or not isinstance(request, ModelRequest):
        return False
    if not all(isinstance(p, ToolCallPart | TextPart | ThinkingPart) for p in response.parts):
        return False
    calls = {p.tool_call_id for p in response.parts if isinstance(p, ToolCallPart)}
    if not calls or not all(is_result(p) for p in request.parts):
        return False
    returns = [p for p in request.parts if isinstance(p, ToolReturnPart)]
    if {p.tool_call_id for p in returns} != calls:
        return False
    return all(is_cleared(p) or len(_part_text(p)) < MIN_CLEARED_CHARS for p in returns)


def _cut(text: str, keep: int) -> str:
    head, tail = text[: keep - keep // 2], text[len(text) - keep // 2 :]
    gap = len(text) - len(head) - len(tail)
    gap_note = f"[… {gap:,} characters left out to stay within the context window …]"
    return f"{head}\n\n{gap_note}\n\n{tail}"


def _part_text(part: Any) -> str:
    if isinstance(part, ToolReturnPart):
        return part.model_response_str()
    if isinstance(part, ToolCallPart):
        return part.tool_name + part.args_as_json_str()
    if isinstance(part, ThinkingPart):
        return part.content + (part.signature or "")
    content = getattr(part, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple):
        return "".join(item if isinstance(item, str) else "x" * 4_000 for item in content)
    if content is None:
        return ""
    return str(content)


def input_room(spec: ModelSpec) -> int:
    """Tokens a request to ``spec`` may send: its window less the answer it may write."""
    return spec.context_window - spec.max_output


def context_editing_settings(spec: ModelSpec, settings: ModelSettings | None) -> ModelSettings:
    """``settings`` with Anthropic's clearing of old tool results switched on past the mark."""
    room = input_room(spec)
    merged: dict[str, Any] = dict(settings or {})
    betas = list(merged.get("anthropic_betas") or [])
    if CONTEXT_EDITING_BETA not in betas:
        betas.append(CONTEXT_EDITING_BETA)
    merged["anthropic_betas"] = betas
    merged["anthropic_context_management"] = {
        "edits": [
            {
                "type": CLEAR_TOOL_USES,
                "trigger": {"type": "input_tokens", "value": int(room * CLEAR_AT)},
                "keep": {"type": "tool_uses", "value": KEEP_RECENT},
                "clear_at_least": {
                    "type": "input_tokens",
                    "value": int(room * CLEAR_AT) - int(room * CLEAR_TO),
                },
            }
        ]
    }
    return ModelSettings(**merged)  # type: ignore[typeddict-item]


@dataclass
class ContextKeeper(AbstractCapability[AnswerDeps]):
    """Clears old tool results (or has Anthropic clear them) before a request would pass the
    serving model's window."""

    async def prepare_model_request(
        self, ctx: RunContext[AnswerDeps], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        spec = ctx.deps.answer.spec_of(request_context.model)
        room = input_room(spec)
        limit, target = int(room * CLEAR_AT), int(room * CLEAR_TO)
        if spec.context_editing and spec.provider == "anthropic":
            request_context.model_settings = context_editing_settings(
                spec, request_context.model_settings
            )
            limit = room  # the server clears past the mark; this is the backstop
        fixed = fixed_tokens(request_context.model_request_parameters)
        # In a thread: on a long history the estimate alone takes milliseconds, a round of
        # clearing a good part of a second (bench/compaction.py), and the loop serves others.
        done = await asyncio.to_thread(
            compact,
            list(request_context.messages),
            limit=limit,
            target=target,
            hard=room,
            fixed=fixed,
        )
        if not done.changed:
            return request_context
        # In the run's history too, so what was cleared stays cleared in later requests.
        ctx.messages[:] = done.apply_to(ctx.messages)
        request_context.messages = done.messages
        log.info(
            "history compacted for %s: %d tool results cleared, %d calls folded, %d texts cut, "
            "about %d -> %d of %d tokens",
            spec.ref,
            done.cleared,
            done.folded,
            done.cut,
            done.tokens_before,
            done.tokens_after,
            room,
        )
        return request_context
