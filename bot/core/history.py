"""Turn a thread into the message history a model expects.

People's messages go in as user turns, each line prefixed with the speaker's name, so the model
knows who said what; Teammate's own earlier replies go in as the model's turns. Consecutive turns
of one role are merged (the APIs want the roles to alternate), a thread that opens with a
Teammate message gets that message as a user line (the APIs want a user turn first), and the
trailing people's messages, the question last, become the prompt. A catalog entry's example
exchanges go first, as earlier turns of the same chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart

from bot.core.conversation import Turn
from bot.core.window import speaker_line

EMPTY_QUESTION = "(no text)"


@dataclass(frozen=True, slots=True)
class Prompted:
    """The earlier turns as model messages, and the prompt that asks the question."""

    history: list[ModelMessage]
    prompt: str


def to_messages(turns: Sequence[Turn]) -> Prompted:
    """Map the (already fitted) turns to message history plus prompt."""
    if not turns:
        return Prompted(history=[], prompt=EMPTY_QUESTION)
    groups: list[tuple[str, list[str]]] = []
    for index, turn in enumerate(turns):
        is_last = index == len(turns) - 1
        if not turn.text.strip() and not is_last:
            continue
        role: str = turn.role
        # A leading Teammate message, or a Teammate message as the question, reads as a line.
        if role == "assistant" and (not groups or is_last):
            role = "user"
        text = turn.text if role == "assistant" else speaker_line(turn)
        if groups and groups[-1][0] == role:
            groups[-1][1].append(text)
        else:
            groups.append((role, [text]))
    _, prompt_lines = groups.pop()
    prompt = "\n\n".join(prompt_lines).strip() or EMPTY_QUESTION
    history: list[ModelMessage] = []
    for role, lines in groups:
        text = "\n\n".join(lines)
        if role == "user":
            history.append(ModelRequest(parts=[UserPromptPart(text)]))
        else:
            history.append(ModelResponse(parts=[TextPart(text)]))
    return Prompted(history=history, prompt=prompt)


def example_messages(examples: Sequence[tuple[str, str]]) -> list[ModelMessage]:
    """Question-and-answer pairs as turns of the chat that came before the conversation."""
    messages: list[ModelMessage] = []
    for question, answer in examples:
        messages.append(ModelRequest(parts=[UserPromptPart(question)]))
        messages.append(ModelResponse(parts=[TextPart(answer)]))
    return messages
