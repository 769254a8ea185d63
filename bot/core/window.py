"""Fit a conversation into a model's context window before it is sent.

Token counts are estimated as characters / 3.5 plus a few tokens per message: cheap, needs no
tokenizer and no network call, and close for English prose. It undercounts dense code and
languages without spaces, so the input budget keeps a margin. Turns are dropped whole, oldest
first; the last turn (the question) is always kept, and is shortened in the middle, with a
marked gap, only when it alone does not fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.conversation import Turn

CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4
SAFETY_MARGIN = 0.05
MIN_INPUT_TOKENS = 256


def estimate_tokens(text: str) -> int:
    """A rough token count of one message."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


def speaker_line(turn: Turn, assistant_name: str = "Teammate") -> str:
    """How a turn reads when a person said it: ``Name: text``."""
    name = turn.speaker or (assistant_name if turn.role == "assistant" else "")
    return f"{name}: {turn.text}" if name else turn.text


def input_budget(context_window: int, max_output: int, system_prompt: str) -> int:
    """Tokens left for the conversation once the answer and the system prompt are provided for."""
    room = context_window - max_output - estimate_tokens(system_prompt)
    return max(MIN_INPUT_TOKENS, int(room * (1 - SAFETY_MARGIN)))


@dataclass(frozen=True, slots=True)
class Fitted:
    """The turns that fit, and what was left out to make them fit."""

    turns: list[Turn]
    dropped: int = 0
    question_chars_cut: int = 0
    notices: list[str] = field(default_factory=list)


def fit_turns(turns: Sequence[Turn], budget_tokens: int, model_label: str) -> Fitted:
    """Keep the newest turns that fit in ``budget_tokens``; always keep the last one."""
    if not turns:
        return Fitted(turns=[])
    question = turns[-1]
    used = estimate_tokens(speaker_line(question))
    if used > budget_tokens:
        cut_question, cut = _shorten(question, budget_tokens)
        dropped = len(turns) - 1
        notices = [_dropped_notice(dropped)] if dropped else []
        notices.append(
            f"Your message was too long for {model_label}, so its middle "
            f"({cut:,} characters) was left out."
        )
        return Fitted(
            turns=[cut_question], dropped=dropped, question_chars_cut=cut, notices=notices
        )
    kept = [question]
    for turn in reversed(turns[:-1]):
        cost = estimate_tokens(speaker_line(turn))
        if used + cost > budget_tokens:
            break
        used += cost
        kept.append(turn)
    kept.reverse()
    dropped = len(turns) - len(kept)
    return Fitted(
        turns=kept, dropped=dropped, notices=[_dropped_notice(dropped)] if dropped else []
    )


def _dropped_notice(dropped: int) -> str:
    if dropped == 1:
        return "This thread is long, so the oldest message was left out."
    return f"This thread is long, so the {dropped} oldest messages were left out."


def _shorten(turn: Turn, budget_tokens: int) -> tuple[Turn, int]:
    """Keep the start and the end of an over-long message, with a marked gap between."""
    prefix = len(speaker_line(turn)) - len(turn.text)
    marker_room = 60
    keep = int((budget_tokens - MESSAGE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN) - prefix - marker_room
    keep = max(keep, 200)
    text = turn.text
    cut = max(0, len(text) - keep)
    head = text[: keep - keep // 2]
    tail = text[len(text) - keep // 2 :] if keep // 2 else ""
    gap = f"\n\n[… {cut:,} characters left out …]\n\n"
    shortened = Turn(role=turn.role, text=head + gap + tail, speaker=turn.speaker, ts=turn.ts)
    return shortened, cut
