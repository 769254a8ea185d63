"""Clearing old tool results on message lists: pairs kept, recent results kept, thinking
untouched, idempotent; and the settings that switch Anthropic's context editing on."""

from __future__ import annotations

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

from bot.core.catalog import Catalog
from bot.core.compaction import (
    CONTEXT_EDITING_BETA,
    compact,
    context_editing_settings,
    is_cleared,
    message_tokens,
)


def long_run(calls: int, result_chars: int = 8_000, thinking: bool = False) -> list[ModelMessage]:
    """A question, then ``calls`` tool calls each with its (large) result."""
    messages: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart("Read every page.")])]
    for n in range(calls):
        parts: list = [ThinkingPart(f"page {n} next", signature=f"sig{n}")] if thinking else []
        parts.append(ToolCallPart("read_page", {"page": n}, tool_call_id=f"call{n}"))
        messages.append(ModelResponse(parts=parts))
        content = f"page {n}: " + "x" * result_chars
        messages.append(ModelRequest(parts=[ToolReturnPart("read_page", content, f"call{n}")]))
    return messages


def results(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [
        part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)
    ]


def test_under_the_mark_nothing_changes() -> None:
    messages = long_run(3)
    done = compact(messages, limit=100_000, target=50_000)
    assert not done.changed
    assert all(a is b for a, b in zip(done.messages, messages, strict=True))


def test_oldest_results_are_cleared_first_and_recent_ones_kept() -> None:
    messages = long_run(20)
    total = message_tokens(messages)
    done = compact(messages, limit=total // 2, target=total // 4, keep_recent=3)
    assert done.changed and done.tokens_after <= total // 4
    kept = results(done.messages)
    cleared = [is_cleared(part) for part in kept]
    # Oldest first: every cleared result comes before every kept one, and the newest 3
    # (and the one just returned) are whole.
    assert cleared == sorted(cleared, reverse=True)
    assert not any(cleared[-4:])
    assert "read_page` (8,008 characters) cleared to stay within the context window" in str(
        kept[0].content
    )
    assert "call it again if needed" in str(kept[0].content)


def test_every_call_keeps_its_result_in_place() -> None:
    messages = long_run(20)
    total = message_tokens(messages)
    done = compact(messages, limit=total // 2, target=total // 4)
    assert len(done.messages) == len(messages)
    for before, after in zip(messages, done.messages, strict=True):
        assert type(before) is type(after)
        assert [type(p) for p in before.parts] == [type(p) for p in after.parts]
    calls = [p.tool_call_id for m in done.messages for p in m.parts if isinstance(p, ToolCallPart)]
    answered = [p.tool_call_id for p in results(done.messages)]
    assert calls == answered


def test_compacting_again_changes_nothing() -> None:
    messages = long_run(20)
    total = message_tokens(messages)
    once = compact(messages, limit=total // 2, target=total // 4)
    twice = compact(once.messages, limit=total // 2, target=total // 4)
    assert not twice.changed
    assert all(a is b for a, b in zip(once.messages, twice.messages, strict=True))


def test_the_input_is_left_as_it_was() -> None:
    messages = long_run(10)
    before = [str(m) for m in messages]
    total = message_tokens(messages)
    compact(messages, limit=total // 2, target=total // 4)
    assert [str(m) for m in messages] == before


def test_thinking_blocks_and_their_signatures_go_back_unchanged() -> None:
    messages = long_run(12, thinking=True)
    total = message_tokens(messages)
    done = compact(messages, limit=total // 3, target=total // 6)
    assert done.folded  # old pairs went as a whole, their thinking with them
    responses = [m for m in done.messages if isinstance(m, ModelResponse)]
    originals = [m for m in messages if isinstance(m, ModelResponse)]
    # Every response left is the very one the model gave: its thinking and signature unchanged.
    assert all(any(r is o for o in originals) for r in responses)
    thinking = [
        (p.content, p.signature) for r in responses for p in r.parts if isinstance(p, ThinkingPart)
    ]
    assert ("page 11 next", "sig11") in thinking


def test_old_cleared_calls_fold_into_one_note_that_counts_them() -> None:
    messages = long_run(60, result_chars=2_000)
    total = message_tokens(messages)
    once = compact(messages, limit=total // 4, target=total // 8)
    assert once.folded and once.tokens_after <= total // 8
    notes = [
        str(p.content) for p in results(once.messages) if "earlier tool calls" in str(p.content)
    ]
    assert len(notes) == 1 and "cleared, and " in notes[0]
    removed = len(messages) - len(once.messages)
    assert f"and {removed // 2:,} earlier tool calls removed" in notes[0]
    # Calls and results still alternate, each call with its own result.
    kinds = [type(m) for m in once.messages]
    assert kinds == [ModelRequest, ModelResponse] * (len(kinds) // 2) + [ModelRequest]
    calls = [p.tool_call_id for m in once.messages for p in m.parts if isinstance(p, ToolCallPart)]
    assert calls == [p.tool_call_id for p in results(once.messages)]
    # The run goes on: forty more pages, compacted again, and the one note counts them all.
    grown = once.messages + long_run(100, result_chars=2_000)[121:]
    again = compact(grown, limit=total // 4, target=total // 8)
    notes = [
        str(p.content) for p in results(again.messages) if "earlier tool calls" in str(p.content)
    ]
    removed = len(messages) + 80 - len(again.messages)
    assert len(notes) == 1 and f"and {removed // 2:,} earlier tool calls removed" in notes[0]


def test_long_old_texts_are_cut_only_when_the_request_would_not_fit_at_all() -> None:
    story = "start " + "words " * 5_000 + " end"
    messages: list[ModelMessage] = [
        ModelRequest(parts=[UserPromptPart(story)]),
        ModelResponse(parts=[TextPart(story)]),
        ModelRequest(parts=[UserPromptPart("And now?")]),
        ModelResponse(parts=[TextPart(story)]),
        ModelRequest(parts=[UserPromptPart("Go on.")]),
    ]
    total = message_tokens(messages)
    # Over the mark but within what the model takes: the thread is not cut.
    assert not compact(messages, limit=total // 2, target=total // 3, hard=total).changed
    done = compact(messages, limit=total // 2, target=total // 3, hard=total // 2)
    first = done.messages[0].parts[0]
    assert done.cut == 2 and done.tokens_after <= total // 2
    assert isinstance(first, UserPromptPart) and isinstance(first.content, str)
    assert first.content.startswith("start ") and first.content.endswith(" end")
    assert "characters left out to stay within the context window" in first.content
    # The newest answer and the request after it are what the model works from: kept whole.
    assert done.messages[-2:] == messages[-2:]


def test_a_result_too_big_on_its_own_is_cut_to_fit() -> None:
    messages = long_run(1, result_chars=200_000)
    done = compact(messages, limit=10_000, target=5_000)
    assert done.tokens_after <= 10_000
    [result] = results(done.messages)
    assert str(result.content).startswith("page 0: ")
    assert "characters left out" in str(result.content)


def test_the_providers_count_scales_the_estimate() -> None:
    messages = long_run(4)
    estimate = message_tokens(messages)
    reported = messages[:-1] + [messages[-1]]
    last_response = reported[-2]
    assert isinstance(last_response, ModelResponse)
    last_response.usage.input_tokens = estimate * 2  # dense text: twice the estimate
    done = compact(reported, limit=int(estimate * 1.5), target=estimate)
    assert done.tokens_before > estimate * 1.5 and done.changed


def test_claude_entries_have_context_editing_sent_with_its_beta() -> None:
    catalog = Catalog.load()
    claude = [spec for spec in catalog.models.values() if spec.provider == "anthropic"]
    assert claude and all(spec.context_editing for spec in claude)
    assert not catalog.resolve("local").context_editing
    assert not catalog.resolve("openai:qwen3-8b").context_editing
    spec = catalog.resolve("claude-haiku-4-5")
    settings = context_editing_settings(
        spec, {"max_tokens": 16_000, "anthropic_betas": ["interleaved-thinking-2025-05-14"]}
    )
    assert settings["max_tokens"] == 16_000  # type: ignore[typeddict-item]
    assert settings["anthropic_betas"] == [  # type: ignore[typeddict-item]
        "interleaved-thinking-2025-05-14",
        CONTEXT_EDITING_BETA,
    ]
    [edit] = settings["anthropic_context_management"]["edits"]  # type: ignore[typeddict-item]
    room = spec.context_window - spec.max_output
    assert edit["type"] == "clear_tool_uses_20250919"
    assert edit["trigger"] == {"type": "input_tokens", "value": int(room * 0.7)}
    assert edit["keep"] == {"type": "tool_uses", "value": 3}
