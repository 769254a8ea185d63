"""Mapping a thread to model messages: who said what, roles alternating, question last."""

from __future__ import annotations

from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from bot.core.conversation import Turn
from bot.core.history import to_messages


def texts(messages: list) -> list[tuple[str, str]]:
    out = []
    for message in messages:
        (part,) = message.parts
        kind = "user" if isinstance(message, ModelRequest) else "assistant"
        assert isinstance(part, UserPromptPart | TextPart)
        out.append((kind, part.content))
    return out


def test_user_turns_carry_the_speaker_and_the_last_is_the_prompt() -> None:
    prompted = to_messages(
        [
            Turn("user", "Is the deploy done?", "Ana"),
            Turn("assistant", "Yes, at 10:02."),
            Turn("user", "Which version?", "Dana"),
        ]
    )
    assert texts(prompted.history) == [
        ("user", "Ana: Is the deploy done?"),
        ("assistant", "Yes, at 10:02."),
    ]
    assert prompted.prompt == "Dana: Which version?"
    assert isinstance(prompted.history[1], ModelResponse)


def test_consecutive_turns_of_one_role_are_merged() -> None:
    prompted = to_messages(
        [
            Turn("user", "one", "Ana"),
            Turn("user", "two", "Ben"),
            Turn("assistant", "a"),
            Turn("assistant", "b"),
            Turn("user", "three", "Ana"),
            Turn("user", "four?", "Dana"),
        ]
    )
    assert texts(prompted.history) == [("user", "Ana: one\n\nBen: two"), ("assistant", "a\n\nb")]
    assert prompted.prompt == "Ana: three\n\nDana: four?"


def test_a_thread_opened_by_teammate_starts_with_a_user_turn() -> None:
    prompted = to_messages(
        [
            Turn("assistant", "Daily digest: 3 incidents."),
            Turn("user", "Tell me about the second", "Dana"),
        ]
    )
    assert prompted.history == []
    assert (
        prompted.prompt == "Teammate: Daily digest: 3 incidents.\n\nDana: Tell me about the second"
    )


def test_empty_messages_are_skipped() -> None:
    prompted = to_messages(
        [Turn("user", "  ", "Ana"), Turn("assistant", "hi"), Turn("user", "ok?", "Dana")]
    )
    assert prompted.history == []
    assert prompted.prompt == "Teammate: hi\n\nDana: ok?"
