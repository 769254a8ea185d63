"""Token counts for answers from llama.cpp's server, which reports no usage while streaming.

llama-cpp-python's server (0.3.36) ignores ``stream_options.include_usage``, so a streamed
answer from the embedded model arrives with no token counts and the footer would show none.
When a run on an OpenAI-compatible model comes back with no usage at all, its tokens are
counted here with the server's own tokenizer (``POST /extras/tokenize/count``): the answer's
text for the output, and for the input each request's messages rendered the way SmolLM2's chat
template renders them (ChatML: ``<|im_start|>role\\ncontent<|im_end|>\\n`` and the opening of the
assistant's turn). The tokenizer parses those special tokens, so for ChatML models the count
equals the server's own ``prompt_tokens`` (tests/local checks this); the template is written
here because the server exposes no endpoint that applies it. A server without the tokenizer
endpoint (vLLM and Ollama report usage anyway) is remembered and not asked again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from openai import APIError, AsyncOpenAI
from pydantic_ai import AgentRunResult
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.usage import RunUsage

log = logging.getLogger("teammate.core.local_tokens")

_without_tokenizer: set[str] = set()


async def counted_usage(model: Model, result: AgentRunResult[Any]) -> RunUsage:
    """The run's usage as the provider reported it or, if it reported none, as counted by an
    OpenAI-compatible server's tokenizer. Counting never fails an answer: on any error the
    reported (empty) usage is returned."""
    usage = result.usage
    if usage.input_tokens or usage.output_tokens or not isinstance(model, OpenAIChatModel):
        return usage
    client = model.client
    root = str(client.base_url).rstrip("/").removesuffix("/v1")
    if root in _without_tokenizer:
        return usage
    try:
        input_tokens, output_tokens = await _count_run(client, root, result.all_messages())
    except APIError as exc:
        if getattr(exc, "status_code", None) == 404:
            _without_tokenizer.add(root)
        log.info("tokens not counted: %s at %s", type(exc).__name__, root)
        return usage
    return replace(usage, input_tokens=input_tokens, output_tokens=output_tokens)


async def _count_run(
    client: AsyncOpenAI, root: str, messages: Sequence[ModelMessage]
) -> tuple[int, int]:
    """Input and output tokens of every model response in ``messages``, each response's input
    being all the messages before it."""
    input_tokens = output_tokens = 0
    for index, message in enumerate(messages):
        if isinstance(message, ModelResponse):
            input_tokens += await _count(client, root, chatml_prompt(messages[:index]))
            output_tokens += await _count(client, root, _response_text(message))
    return input_tokens, output_tokens


async def _count(client: AsyncOpenAI, root: str, text: str) -> int:
    if not text:
        return 0
    answer = await client.post(
        root + "/extras/tokenize/count", body={"input": text}, cast_to=dict[str, Any]
    )
    return int(answer["count"])


def chatml_prompt(messages: Sequence[ModelMessage]) -> str:
    """``messages`` as a ChatML prompt, ending where the assistant's answer begins."""
    turns: list[tuple[str, str]] = []
    instructions = next(
        (m.instructions for m in reversed(messages) if isinstance(m, ModelRequest)), None
    )
    if instructions:
        turns.append(("system", instructions))
    for message in messages:
        if isinstance(message, ModelRequest):
            turns += [turn for part in message.parts if (turn := _request_turn(part))]
        else:
            turns.append(("assistant", _response_text(message)))
    rendered = "".join(f"<|im_start|>{role}\n{text}<|im_end|>\n" for role, text in turns)
    return rendered + "<|im_start|>assistant\n"


def _request_turn(part: object) -> tuple[str, str] | None:
    if isinstance(part, SystemPromptPart):
        return "system", part.content
    if isinstance(part, UserPromptPart):
        content = part.content
        text = (
            content
            if isinstance(content, str)
            else "".join(item for item in content if isinstance(item, str))
        )
        return "user", text
    if isinstance(part, ToolReturnPart):
        return "tool", part.model_response_str()
    return None


def _response_text(response: ModelResponse) -> str:
    pieces = []
    for part in response.parts:
        if isinstance(part, TextPart):
            pieces.append(part.content)
        elif isinstance(part, ToolCallPart):
            pieces.append(part.args_as_json_str())
    return "".join(pieces)
