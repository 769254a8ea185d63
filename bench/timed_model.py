"""A fake Anthropic server that notes when it writes each answer's first text token.

The fakes used by the tests time nothing. The first-token benchmark needs the moment the
model handed its first text delta to the socket, on the same clock as the sandbox's change
feed (time.monotonic; both run in the benchmark's process). It can also hold that first
token back, as a real model does while it reads the prompt: the stream opens at once
(message_start, content_block_start), then the first text delta waits `first_token_delay`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from bot.testkit.fakes import FakeAnthropic, last_user_text
from bot.testkit.fakes.base import SSEOut
from bot.testkit.fakes.script import Block


class TimedAnthropic(FakeAnthropic):
    def __init__(self, *, first_token_delay: float = 0.0, **options: Any) -> None:
        super().__init__(**options)
        self.first_token_delay = first_token_delay
        self.first_text: list[tuple[str, float]] = []
        """(the request's last user text, time.monotonic() just after its first text delta)."""

    def first_text_at(self, marker: str) -> float | None:
        """When the first text token of the answer to a question containing ``marker`` left."""
        return next((t for question, t in self.first_text if marker in question), None)

    async def write_stream(
        self, out: SSEOut, body: dict[str, Any], reply: Any, blocks: Sequence[Block]
    ) -> None:
        write = out.piece
        question = last_user_text(body)
        waiting = True

        async def piece(data: Any, event: str | None = None) -> None:
            nonlocal waiting
            is_text = isinstance(data, dict) and data.get("delta", {}).get("type") == "text_delta"
            if waiting and is_text:
                waiting = False
                if self.first_token_delay:
                    await asyncio.sleep(self.first_token_delay)
                await write(data, event)
                self.first_text.append((question, time.monotonic()))
                return
            await write(data, event)

        out.piece = piece  # type: ignore[method-assign]
        await super().write_stream(out, body, reply, blocks)
