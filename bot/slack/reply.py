"""Draws an answer's events into Slack as messages that grow while the model writes.

Slack's streaming API (chat.startStream / appendStream / stopStream) carries the Markdown as
the model wrote it, so Slack renders it, code fences and their languages included. The first
words go out as soon as they arrive; after that, text is batched so that a reply makes at most
one call per ``interval`` and never resends what Slack already shows. An answer longer than a
message's limit rolls into the next message in the thread at a paragraph or word boundary.
Where streaming is not available, the same text is drawn with chat.postMessage and throttled
chat.update calls (smaller messages, as chat.update refuses text over about 4,000 characters).

slack-sdk's own ``chat_stream`` helper buffers by size only; time-based batching and rollover
are what keep the first paint fast and the call rate flat, so this is written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from markdown_to_mrkdwn import SlackMarkdownConverter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.events import AgentEvent, Done, Failed, Notice, TextDelta, Usage
from bot.core.references import new_reference
from bot.slack import blocks
from bot.slack.text import open_fence, sendable_prefix, split_point

log = logging.getLogger("teammate.slack.reply")

STREAM_MESSAGE_LIMIT = 12_000
UPDATE_MESSAGE_LIMIT = 3_900
_MIN_ROOM = 200
_STREAMING_UNSUPPORTED = {"unknown_method", "not_allowed_token_type", "method_not_supported"}
_to_mrkdwn = SlackMarkdownConverter().convert


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes: a thread, and the person it answers (Slack needs both)."""

    channel: str
    thread_ts: str
    team_id: str
    user_id: str


@dataclass
class ReplyOutcome:
    status: str = "done"
    text: str = ""
    message_ts: list[str] = field(default_factory=list)
    model_label: str = ""
    usage: Usage | None = None
    error_ref: str | None = None


class SlackReply:
    def __init__(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        *,
        interval: float = 1.0,
        streaming: bool = True,
        on_message: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.interval = interval
        self.streaming = streaming
        self.on_message = on_message
        self.outcome = ReplyOutcome()
        self._pending = ""
        self._notices: list[str] = []
        self._current_ts: str | None = None
        self._current_text = ""
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._last_call = float("-inf")

    @property
    def limit(self) -> int:
        return STREAM_MESSAGE_LIMIT if self.streaming else UPDATE_MESSAGE_LIMIT

    async def draw(self, events: AsyncIterator[AgentEvent]) -> ReplyOutcome:
        reader = asyncio.create_task(self._read(events))
        try:
            await self._write()
        finally:
            if not reader.done():
                reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        return self.outcome

    async def _read(self, events: AsyncIterator[AgentEvent]) -> None:
        try:
            async for event in events:
                self._take(event)
        except Exception:  # the core reports its failures as events; this is a bug
            reference = new_reference()
            log.exception("answer stream broke ref=%s", reference)
            self._take(Failed("Something went wrong while answering.", reference))
        finally:
            self._finished.set()
            self._changed.set()

    def _take(self, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            self._pending += event.text
            self.outcome.text += event.text
        elif isinstance(event, Notice):
            self._notices.append(event.text)
        elif isinstance(event, Usage):
            self.outcome.usage = event
        elif isinstance(event, Done):
            self.outcome.model_label = event.model_label
            self.outcome.usage = event.usage
        elif isinstance(event, Failed):
            self.outcome.status = "failed"
            self.outcome.error_ref = event.reference
            self._pending += blocks.error_note(event.message, event.reference)
        self._changed.set()

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._changed.wait()
            self._changed.clear()
            final = self._finished.is_set()
            await self._flush(final)
            if final:
                return
            wait = self.interval - (loop.time() - self._last_call)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), wait)

    async def _flush(self, final: bool) -> None:
        cut = sendable_prefix(self._pending, final)
        chunk, self._pending = self._pending[:cut], self._pending[cut:]
        tail = ""
        while chunk:
            room = self.limit - len(self._current_text)
            if len(chunk) <= room:
                if final and self.streaming and self._current_ts is not None:
                    tail = chunk  # goes out with chat.stopStream: one call fewer
                else:
                    await self._append(chunk)
                break
            if room < _MIN_ROOM:
                await self._close_message()
                continue
            at = split_point(chunk, room - 20)
            head, chunk = chunk[:at], chunk[at:]
            language = open_fence(self._current_text + head)
            if language is not None:
                head += "\n```"
                chunk = f"```{language}\n" + chunk
            await self._append(head)
            await self._close_message()
        if final:
            await self._finish(tail)

    async def _append(self, text: str) -> None:
        if self._current_ts is None:
            await self._open_message(text)
            return
        self._current_text += text
        if self.streaming:
            await self._call(
                self.client.chat_appendStream,
                channel=self.target.channel,
                ts=self._current_ts,
                markdown_text=text,
            )
        else:
            await self._call(
                self.client.chat_update,
                channel=self.target.channel,
                ts=self._current_ts,
                text=_to_mrkdwn(self._current_text),
            )

    async def _open_message(self, text: str) -> None:
        self._current_text = text
        if self.streaming:
            try:
                response = await self._call(
                    self.client.chat_startStream,
                    channel=self.target.channel,
                    thread_ts=self.target.thread_ts,
                    recipient_team_id=self.target.team_id,
                    recipient_user_id=self.target.user_id,
                    markdown_text=text,
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in _STREAMING_UNSUPPORTED:
                    raise
                log.warning("streaming unavailable (%s); drawing with chat.update", exc)
                self.streaming = False
                await self._open_message(text)
                return
        else:
            response = await self._call(
                self.client.chat_postMessage,
                channel=self.target.channel,
                thread_ts=self.target.thread_ts,
                text=_to_mrkdwn(text),
            )
        self._current_ts = response["ts"]
        self.outcome.message_ts.append(response["ts"])
        if self.on_message is not None:
            await self.on_message(list(self.outcome.message_ts))

    async def _close_message(self, footer: list[dict] | None = None, tail: str = "") -> None:
        if self._current_ts is None:
            return
        if self.streaming:
            self._current_text += tail
            await self._call(
                self.client.chat_stopStream,
                channel=self.target.channel,
                ts=self._current_ts,
                **({"markdown_text": tail} if tail else {}),
                **({"blocks": footer} if footer else {}),
            )
        elif footer:
            await self._call(
                self.client.chat_update,
                channel=self.target.channel,
                ts=self._current_ts,
                text=_to_mrkdwn(self._current_text),
                blocks=[_markdown_block(self._current_text), *footer],
            )
        self._current_ts = None
        self._current_text = ""

    async def _finish(self, tail: str = "") -> None:
        if not self.outcome.text.strip() and self._current_ts is None:
            note = "_The model returned an empty answer._" if self.outcome.status == "done" else ""
            await self._append(note or self._pending or "_No answer._")
        footer = None
        if self.outcome.status == "done":
            label = self.outcome.model_label or "model"
            footer = blocks.footer(label, self.outcome.usage, self._notices)
        await self._close_message(footer, tail)

    async def _call(self, method, **kwargs):  # type: ignore[no-untyped-def]
        self._last_call = asyncio.get_running_loop().time()
        return await method(**kwargs)


def _markdown_block(markdown: str) -> dict:
    return {"type": "markdown", "text": markdown}
