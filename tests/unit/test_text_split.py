from bot.slack.text import open_fence, sendable_prefix, split_point


def test_split_prefers_a_paragraph_then_a_line_then_a_word() -> None:
    text = "first paragraph here.\n\nsecond one is longer than the limit"
    assert text[: split_point(text, 30)] == "first paragraph here.\n\n"
    words = "alpha beta gamma delta epsilon"
    cut = split_point(words, 14)
    assert words[:cut] == "alpha beta "


def test_never_sends_half_a_word_until_the_end() -> None:
    assert "hello wor"[: sendable_prefix("hello wor", final=False)] == "hello "
    assert sendable_prefix("hello wor", final=True) == len("hello wor")
    assert sendable_prefix("unbroken", final=False) == 0


def test_open_fence_reports_the_language_to_reopen() -> None:
    assert open_fence("text\n```python\nx = 1\n") == "python"
    assert open_fence("```\ncode\n") == ""
    assert open_fence("```sql\nselect 1\n```\nafter") is None
