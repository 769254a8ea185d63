"""Carries an answer's view to Slack: which calls, when, and how a long answer rolls over.

While streaming (chat.startStream / appendStream / stopStream) Slack receives the Markdown as
the model wrote it, and the work's steps as task chunks in its timeline; without streaming
the same answer is drawn with chat.postMessage and chat.update as a ``markdown`` block (Slack
renders Markdown itself) with a plain-text copy for notifications, and the steps as compact
lines above the text.

Pacing: the first paint waits for the answer's first ``FIRST_PAINT_CHARS`` characters (or
``FIRST_PAINT_WAIT`` after its first token, whichever comes first), so a reader sees words
rather than a few letters; after that an answer makes at most one call per ``interval``. When
the first call carried fewer than those characters (the model paused, or a step came first),
the call that completes them is due as soon as they are there, not an interval later. A change
of steps alone (a tool starting or ending) waits ``STEP_SETTLE`` before it is drawn: the next
model request, which the core sends as soon as the tool is done, then leaves before this
process spends its time on Slack calls, and a quick tool's start and end go in one call. Each
call also waits for its turn in the shared limiter (bot.slack.render.limiter), the first
words' calls ahead of other answers' updates, and only then takes what the view holds, so a
call that had to wait, or was refused with a 429, sends the latest text. A 429 never fails
the answer: the call waits out Retry-After and goes again. Whatever happens, a stream this
writer opened is stopped before it returns.

An answer longer than a message's limit rolls into the next message in the thread at a
paragraph or word boundary, a code fence closed and reopened across the cut.
slack-sdk's ``chat_stream`` helper buffers by size only and retries nothing, so this is
written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.render.limiter import Lane, SlackLimiter, workspace_key
from bot.slack.render.view import AnswerView
from bot.slack.text import open_fence, sendable_prefix, split_point

log = logging.getLogger("teammate.slack.writer")

STREAM_MESSAGE_LIMIT = 12_000
UPDATE_MESSAGE_LIMIT = 3_900
FIRST_PAINT_CHARS = 30
FIRST_PAINT_WAIT = 0.5
"""Seconds after the first token the first paint waits for its characters at most. At 50
tokens a second they come within about 0.1 s; when many answers stream at once they come
slower, and a shorter first paint would cost a second call in the most crowded lane."""
STEP_SETTLE = 0.05
STOP_ATTEMPTS_AFTER_ERROR = 3
_MIN_ROOM = 200
_STREAMING_UNSUPPORTED = {"unknown_method", "not_allowed_token_type", "method_not_supported"}


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes: a thread, and the person it answers (Slack needs both)."""

    channel: str
    thread_ts: str
    team_id: str
    user_id: str


class _Deferred(Exception):
    """A call was refused with a 429; nothing was consumed, the loop sends the latest later."""


class StreamWriter:
    def __init__(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        view: AnswerView,
        limiter: SlackLimiter,
        *,
        interval: float,
        streaming: bool,
        on_message: Callable[[list[str]], Awaitable[None]] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.metadata = metadata
        """Message metadata each message carries once complete (who posted it, for a
        take-over after a crash); a message being streamed has none until it is stopped."""
        self.target = target
        self.view = view
        self.limiter = limiter
        self.interval = interval
        self.streaming = streaming
        self.on_message = on_message
        self.workspace = workspace_key(client.token)
        self.message_ts: list[str] = []
        self.shown = 0
        """Characters of the answer sent so far (its first words are due until this is
        ``FIRST_PAINT_CHARS``)."""
        self._current_ts: str | None = None
        self._current_text = ""
        self._current_steps: list[str] = []
        self._last_call = float("-inf")
        self._granted: tuple[str, Lane] | None = None

    @property
    def limit(self) -> int:
        return STREAM_MESSAGE_LIMIT if self.streaming else UPDATE_MESSAGE_LIMIT

    async def run(self) -> None:
        """Draw until the view is finished and its last message is closed."""
        try:
            while True:
                await self.view.changed.wait()
                self.view.changed.clear()
                if not self.view.finished:
                    await self._pace()
                try:
                    closed = await self._flush(self.view.finished)
                except _Deferred:
                    self.view.changed.set()  # something is still to send
                    continue
                if closed:
                    return
        finally:
            if self._current_ts is not None and self.streaming:
                await self._stop_after_error()

    # -- pacing ------------------------------------------------------------------------------

    async def _pace(self) -> None:
        """Wait until the next call is due; returns early when the answer finishes."""
        loop = asyncio.get_running_loop()
        settled = loop.time() + STEP_SETTLE
        await self._due()
        await self._settle_steps(settled - loop.time())

    async def _due(self) -> None:
        """The first paint's wait for words, or else the interval since the last call."""
        loop = asyncio.get_running_loop()
        view = self.view
        if self._current_ts is None and view.first_content_at is not None:
            deadline = view.first_content_at + FIRST_PAINT_WAIT
            while not view.finished and not view.has_step_updates:
                if self._first_words_ready():
                    break
                if not await self._changed_within(deadline - loop.time()):
                    break
            return
        deadline = self._last_call + self.interval
        if self._first_words_due():  # the call that completes them goes as soon as it can
            while not view.finished and not self._first_words_ready():
                if not await self._changed_within(deadline - loop.time()):
                    break
            return
        wait = deadline - loop.time()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(view.done.wait(), wait)

    async def _settle_steps(self, wait: float) -> None:
        """Let a change of steps alone settle for ``wait`` seconds (see the module's docstring)."""
        view = self.view
        if wait <= 0 or view.finished or not view.has_step_updates:
            return
        if sendable_prefix(view.pending(), False):
            return  # text is waiting too: it goes now, with the steps
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(view.done.wait(), wait)

    def _first_words_due(self) -> bool:
        """Whether the answer's first words are still to show (some of them may be out)."""
        return self.shown < FIRST_PAINT_CHARS

    def _first_words_ready(self) -> bool:
        """Whether what is ready to send completes the answer's first words."""
        return self.shown + sendable_prefix(self.view.pending(), False) >= FIRST_PAINT_CHARS

    async def _changed_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the view to change; False when the time ran out."""
        if seconds <= 0:
            return False
        self.view.changed.clear()
        try:
            await asyncio.wait_for(self.view.changed.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _turn(self, method: str) -> None:
        """Wait for ``method``'s turn before deciding what to send (the latest text)."""
        lane = self._lane(method)
        await lane.take(first=self._first_words_due())
        self._granted = (method, lane)

    def _lane(self, method: str) -> Lane:
        return self.limiter.lane(self.workspace, method, self.target.channel)

    # -- what to send ------------------------------------------------------------------------

    def _next_method(self, final: bool) -> str:
        if self._current_ts is None:
            return "chat.startStream" if self.streaming else "chat.postMessage"
        if final:
            return "chat.stopStream" if self.streaming else "chat.update"
        return "chat.appendStream" if self.streaming else "chat.update"

    async def _flush(self, final: bool) -> bool:
        """Send what is due; True once the answer's last message is closed."""
        view = self.view
        if final and self._current_ts is None and not view.text.strip() and not view.failure:
            view.consume(view.pending_size)
            view.push_front(view.empty_note())
        if not final and not view.has_step_updates and not sendable_prefix(view.pending(), False):
            return False
        await self._turn(self._next_method(final))
        if not final and view.finished and self._current_ts is not None:
            # The answer ended while this update waited for its turn: the closing call
            # carries the rest instead, one call fewer in a crowded lane.
            self._give_back_unused()
            return await self._flush(True)
        tail = ""
        while True:
            pending = view.pending()
            chunk = pending[: sendable_prefix(pending, final)]
            room = self.limit - len(self._current_text) - self._steps_size()
            if len(chunk) <= room:
                if final and (self._current_ts is not None or not self.streaming):
                    tail = chunk  # goes out with the closing call: one call fewer
                elif chunk or view.has_step_updates:
                    await self._append(chunk)
                    view.consume(len(chunk))
                break
            if room < _MIN_ROOM and self._current_ts is not None:
                await self._close()
                continue
            at = split_point(chunk, max(room - 20, _MIN_ROOM))
            head = chunk[:at]
            language = open_fence(self._current_text + head)
            await self._append(head + ("\n```" if language is not None else ""))
            view.consume(at)
            if language is not None:
                view.push_front(f"```{language}\n")
            await self._close()
        self._give_back_unused()
        if final:
            await self._close(tail, view.footer(), final=True)
            view.consume(len(tail))
        return final

    def _steps_size(self) -> int:
        if self.streaming:
            return 0
        steps = self.view.steps
        return sum(len(steps[i].title) + 40 for i in self._current_steps if i in steps)

    # -- the calls ---------------------------------------------------------------------------

    async def _append(self, text: str) -> None:
        chunks, ids = self.view.step_chunks()
        if self._current_ts is None:
            await self._open(text, chunks, ids)
            return
        if self.streaming:
            await self._call(
                "chat.appendStream",
                self.client.chat_appendStream,
                channel=self.target.channel,
                ts=self._current_ts,
                **_content(text, chunks),
            )
        else:
            await self._redraw(self._current_text + text, ids)
        self.view.taken(ids)
        self._current_text += text
        self.shown += len(text)

    async def _open(
        self, text: str, chunks: list[dict[str, Any]], ids: list[str], footer: list | None = None
    ) -> None:
        if self.streaming:
            try:
                response = await self._call(
                    "chat.startStream",
                    self.client.chat_startStream,
                    channel=self.target.channel,
                    thread_ts=self.target.thread_ts,
                    recipient_team_id=self.target.team_id,
                    recipient_user_id=self.target.user_id,
                    task_display_mode="plan" if _has_plan(chunks) else "timeline",
                    **_content(text, chunks),
                )
            except SlackApiError as exc:
                if exc.response.get("error") not in _STREAMING_UNSUPPORTED:
                    raise
                log.warning("streaming unavailable (%s); drawing with chat.update", exc)
                self.streaming = False
                raise _Deferred() from exc  # drawn again at once, at the smaller limit
        else:
            self._current_steps = list(ids)
            response = await self._call(
                "chat.postMessage",
                self.client.chat_postMessage,
                channel=self.target.channel,
                thread_ts=self.target.thread_ts,
                **self._update_content(text, footer),
                **self._marked(),
            )
        self.view.taken(ids)
        self._current_ts = response["ts"]
        self._current_text = text
        self.shown += len(text)
        self.message_ts.append(response["ts"])
        if self.on_message is not None:
            await self.on_message(list(self.message_ts))

    async def _close(self, tail: str = "", footer: list | None = None, final: bool = False) -> None:
        """End the current message; a 429 here is waited out in place (the text is whole).
        At the end with no message open, the (short) answer is posted with its footer."""
        while True:
            try:
                if self._current_ts is None:
                    if not final:
                        return
                    chunks, ids = self.view.step_chunks()
                    await self._open(tail, chunks, ids, None if self.streaming else footer)
                    tail = ""
                    if not self.streaming:
                        self._reset()
                        return
                await self._close_once(tail, footer, final)
                return
            except _Deferred:
                continue

    async def _close_once(self, tail: str, footer: list | None, final: bool) -> None:
        chunks, ids = self.view.step_chunks() if final else ([], [])
        if self.streaming:
            await self._call(
                "chat.stopStream",
                self.client.chat_stopStream,
                channel=self.target.channel,
                ts=self._current_ts,
                **_content(tail, chunks),
                **({"blocks": footer} if footer else {}),
                **self._marked(),
            )
        elif footer or tail or ids:
            await self._redraw(self._current_text + tail, ids, footer)
        self.view.taken(ids)
        self._reset()

    async def _redraw(self, text: str, ids: list[str], footer: list | None = None) -> None:
        """chat.update of the current message: its whole text, its steps, maybe the footer."""
        self._current_steps += [i for i in ids if i not in self._current_steps]
        await self._call(
            "chat.update",
            self.client.chat_update,
            channel=self.target.channel,
            ts=self._current_ts,
            **self._update_content(text, footer),
        )

    def _marked(self) -> dict[str, Any]:
        return {"metadata": self.metadata} if self.metadata is not None else {}

    def _reset(self) -> None:
        self._current_ts = None
        self._current_text = ""
        self._current_steps = []

    def _update_content(self, text: str, footer: list | None = None) -> dict[str, Any]:
        """A chat.postMessage / chat.update body: Markdown in a markdown block, plain text
        for notifications, the steps' lines above the answer."""
        lines = self.view.step_lines(self._current_steps)
        markdown = f"{lines}\n\n{text}" if lines and text else (lines or text)
        return {
            "text": plain_text(markdown),
            "blocks": [{"type": "markdown", "text": markdown}, *(footer or [])],
        }

    async def _call(self, method: str, call: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        if self._granted is not None and self._granted[0] == method:
            lane = self._granted[1]
            self._granted = None
        else:
            self._give_back_unused()
            lane = self._lane(method)
            await lane.take(first=self._first_words_due())
        try:
            response = await call(**kwargs)
        except SlackApiError as exc:
            wait = retry_after(exc)
            lane.done(counted=wait is None)
            if wait is None:
                raise
            lane.refused(wait)
            log.info("%s rate limited; waiting %.1f s", method, wait)
            raise _Deferred() from exc
        except BaseException:
            lane.done()
            raise
        finally:
            self._last_call = asyncio.get_running_loop().time()  # the interval runs from here
        lane.done()
        lane.succeeded()
        return response

    def _give_back_unused(self) -> None:
        if self._granted is not None:
            self._granted[1].give_back()
            self._granted = None

    async def _stop_after_error(self) -> None:
        """The answer broke mid-stream: stop the message so it does not stay in progress."""
        for _ in range(STOP_ATTEMPTS_AFTER_ERROR):
            try:
                await self._call(
                    "chat.stopStream",
                    self.client.chat_stopStream,
                    channel=self.target.channel,
                    ts=self._current_ts,
                )
                break
            except _Deferred:
                continue
            except Exception:  # best effort: the answer has already failed
                log.warning("could not stop a broken stream", exc_info=True)
                break
        self._reset()


def _content(text: str, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Text alone as ``markdown_text``; with task chunks, everything as chunks, in order."""
    if not chunks:
        return {"markdown_text": text} if text else {}
    if text:
        chunks = [*chunks, {"type": "markdown_text", "text": text}]
    return {"chunks": chunks}


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait when it refused a call with a 429, else None."""
    response = exc.response
    if getattr(response, "status_code", None) != 429 and response.get("error") != "ratelimited":
        return None
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")
_EMPHASIS = re.compile(r"(\*\*|__|~~)(.+?)\1")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """The notification text of a Markdown message: links as "label (url)", no emphasis or
    heading marks. Slack shows it only where blocks cannot be drawn."""
    text = _LINK.sub(r"\1 (\2)", markdown)
    text = _EMPHASIS.sub(r"\2", text)
    return _HEADING.sub("", text)


def _has_plan(chunks: list[dict[str, Any]]) -> bool:
    """An answer that opens with a plan (a task's) is shown as Slack's plan checklist."""
    return any(chunk.get("type") == "plan_update" for chunk in chunks)
