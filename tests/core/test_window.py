"""Fitting a thread into the model's window: whole turns dropped, the question always kept."""

from __future__ import annotations

from bot.core.conversation import Turn
from bot.core.window import estimate_tokens, fit_turns, input_budget, speaker_line


def thread(count: int, size: int = 350) -> list[Turn]:
    return [Turn("user", f"{i:03d} " + "x" * size, f"P{i}") for i in range(count)]


def test_a_short_thread_is_kept_whole() -> None:
    turns = thread(3)
    fitted = fit_turns(turns, budget_tokens=10_000, model_label="M")
    assert fitted.turns == turns
    assert fitted.dropped == 0
    assert fitted.notices == []


def test_oldest_turns_are_dropped_whole_and_the_reader_is_told() -> None:
    turns = thread(20)
    per_turn = estimate_tokens(speaker_line(turns[0]))
    fitted = fit_turns(turns, budget_tokens=per_turn * 8, model_label="M")
    assert fitted.turns == turns[-8:]
    assert fitted.dropped == 12
    assert fitted.notices == ["This thread is long, so the 12 oldest messages were left out."]
    assert all(t.text == o.text for t, o in zip(fitted.turns, turns[-8:], strict=True))


def test_one_dropped_message_reads_in_the_singular() -> None:
    turns = thread(3)
    per_turn = estimate_tokens(speaker_line(turns[0]))
    fitted = fit_turns(turns, budget_tokens=per_turn * 2, model_label="M")
    assert fitted.notices == ["This thread is long, so the oldest message was left out."]


def test_the_question_is_kept_even_when_nothing_else_fits() -> None:
    turns = thread(5, size=1000)
    question_cost = estimate_tokens(speaker_line(turns[-1]))
    fitted = fit_turns(turns, budget_tokens=question_cost, model_label="M")
    assert fitted.turns == [turns[-1]]
    assert fitted.dropped == 4


def test_an_overlong_question_keeps_its_start_and_end_with_a_marked_gap() -> None:
    text = "START " + "middle " * 5000 + " END"
    turns = [Turn("user", "earlier", "Ana"), Turn("user", text, "Dana")]
    fitted = fit_turns(turns, budget_tokens=1000, model_label="Claude Haiku 4.5")
    (question,) = fitted.turns
    assert question.text.startswith("START ")
    assert question.text.endswith(" END")
    assert "characters left out" in question.text
    assert estimate_tokens(speaker_line(question)) <= 1000
    assert fitted.question_chars_cut > 0
    assert fitted.dropped == 1
    assert any("too long for Claude Haiku 4.5" in n for n in fitted.notices)


def test_budget_leaves_room_for_the_answer_and_the_system_prompt() -> None:
    system = "s" * 3500  # about 1000 tokens
    budget = input_budget(context_window=8192, max_output=1024, system_prompt=system)
    assert budget < 8192 - 1024 - 1000
    assert budget > 5000
