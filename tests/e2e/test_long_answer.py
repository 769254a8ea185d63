"""An answer far beyond one Slack message arrives whole, in order, split between words."""

from __future__ import annotations

from bot.testkit.fakes import Text


def long_answer(characters: int) -> str:
    paragraphs, size, n = [], 0, 0
    while size < characters:
        words = " ".join(f"w{n}x{i}" for i in range(40))
        paragraph = f"Paragraph {n}: {words}."
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
        n += 1
    code = "```python\n" + "\n".join(f"value_{i} = {i} * 2" for i in range(30)) + "\n```"
    paragraphs.insert(len(paragraphs) // 3, code)
    return "\n\n".join(paragraphs)


async def test_thirty_thousand_characters_arrive_whole_across_messages(stack) -> None:
    answer = long_answer(30_000)
    stack.model.script(Text(answer, chunk_size=40, delay=0.001))
    posted = stack.mention("write a lot")
    replies = await stack.answer("general", posted["ts"], count=3, within=40)
    await stack.sandbox.settle()
    texts = [r["text"] for r in stack.sandbox.replies("general", posted["ts"], from_bot=True)]
    assert len(texts) >= 3
    assert all(len(t) <= 12_000 for t in texts)
    original_words = answer.split()
    assert "".join(texts).split() == original_words  # every word, in order, nothing twice
    known = set(original_words)
    for text in texts:  # no message starts or ends in the middle of a word
        assert set(text.split()) <= known
    assert "```python" in "".join(texts)
    assert stack.sandbox.ratelimited == 0
    assert all(call["ok"] for call in stack.sandbox.calls() if call["method"].startswith("chat."))
    assert "tokens" in str(replies[-1]["blocks"])  # the footer closes the last message
