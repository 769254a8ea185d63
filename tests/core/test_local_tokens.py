"""Counting an answer's tokens when the server reported none: the prompt rendered as the
embedded model's chat template renders it (checked against the real server in tests/local)."""

from __future__ import annotations

from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from bot.core.local_tokens import chatml_prompt


def test_the_prompt_is_rendered_as_chatml_with_the_instructions_first() -> None:
    messages = [
        ModelRequest(parts=[UserPromptPart("Alice: hi")], instructions="Be brief."),
        ModelResponse(parts=[TextPart("Hello!")]),
        ModelRequest(parts=[UserPromptPart("Alice: What is 2+2?")], instructions="Be brief."),
    ]
    assert chatml_prompt(messages) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nAlice: hi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nAlice: What is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
