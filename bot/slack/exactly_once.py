"""Every listener runs under its request's claim, exactly once, by construction.

The claim middleware (:mod:`bot.slack.dedupe`) starts claiming each event, command and click
while Bolt acknowledges it. Handlers are registered through :class:`Listeners`, never on the
app directly, and the wrapper it puts around each one owns the whole rule: acknowledge first
(the ack never waits for the database), then await the claim; a duplicate stops there; the
handler runs while the claim's lease is kept alive; when it returns the claim is done, whatever
it did. If it raises, the claim stays running and its lease runs out, so a Slack retry can take
it over (which is what a crash looks like too). No handler can answer without a claim, or
forget to finish one.

Handlers are plain top-level functions that ask for what they need by parameter name, as
with Bolt (``body``, ``event``, ``command``, ``client``, ``say``, ...), plus ``work`` (the held
:class:`Work`) and whatever the app provides (``services``).

Usage::

    async def on_mention(work: Work, services: Services, body: dict, event: dict, client) -> None:
        ...

    def register(on: Listeners) -> None:
        on.event("app_mention")(on_mention)
        on.command("/ask", ack=usage_or_nothing)(answer)
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant
from slack_bolt.kwargs_injection.async_args import AsyncArgs

from bot.core.store import Claim, ClaimStore
from bot.slack.work import WorkTracker

log = logging.getLogger("teammate.slack.exactly_once")

Handler = Callable[..., Awaitable[None]]
AckText = Callable[..., Awaitable[str | None]]
AckView = Callable[..., Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Work:
    """A request this process holds the claim for: what lets a handler act on it."""

    claim: Claim


class Listeners:
    """Registers handlers on a Bolt app so that each runs under its request's claim."""

    def __init__(
        self,
        app: AsyncApp,
        claims: ClaimStore,
        tracker: WorkTracker,
        provides: dict[str, object] | None = None,
    ) -> None:
        self.app = app
        self._claims = claims
        self._tracker = tracker
        self._provides = dict(provides or {})
        self.assistant = AsyncAssistant()
        self.subcommands: dict[str, list[str]] = {}
        """The subcommands registered per slash command (what its usage hint must name)."""

    def event(self, name: str | re.Pattern[str]) -> Callable[[Handler], Handler]:
        """An Events API event, by type or a pattern of types (Bolt acknowledges events
        itself)."""
        return lambda handler: self._on(self.app.event(name), handler, ack=None)

    def command(
        self, name: str, ack: AckText | None = None, subcommand: str | None = None
    ) -> Callable[[Handler], Handler]:
        """A slash command; ``ack`` may return the text the person sees at once (None: none).

        With ``subcommand`` the handler takes only ``/name subcommand …`` (the first word of
        the text); register those before the command's catch-all, since Bolt runs the first
        listener that matches."""
        matchers = [_first_word_is(subcommand)] if subcommand else None
        if subcommand:
            self.subcommands.setdefault(name, []).append(subcommand)
        return lambda handler: self._on(
            self.app.command(name, matchers=matchers), handler, ack=ack or _silent
        )

    def action(self, action_id: str) -> Callable[[Handler], Handler]:
        """A click on a Block Kit element."""
        return lambda handler: self._on(self.app.action(action_id), handler, ack=_silent)

    def view(self, callback_id: str, ack: AckView | None = None) -> Callable[[Handler], Handler]:
        """A modal's submission; ``ack`` may return Slack's response to it (``response_action``
        with ``errors`` to keep the modal open with a message beside a field, and then the
        handler does not run; None: close the modal and run it)."""
        return lambda handler: self._on(
            self.app.view_submission(callback_id), handler, ack=ack or _silent
        )

    def thread_started(self, handler: Handler) -> Handler:
        """A new assistant-panel thread."""
        return self._on(self.assistant.thread_started, handler, ack=None)

    def user_message(self, handler: Handler) -> Handler:
        """A message in an assistant-panel thread."""
        return self._on(self.assistant.user_message, handler, ack=None)

    def finish(self) -> None:
        """Attach what must be registered once all handlers are (the assistant middleware)."""
        self.app.assistant(self.assistant)

    def _on(
        self,
        register: Callable[[Handler], Any],
        handler: Handler,
        ack: AckText | AckView | None,
    ) -> Handler:
        wanted = _parameters(handler)
        ack_wanted = _parameters(ack) if ack is not None else ()

        async def once(args: AsyncArgs) -> None:
            refused = False
            if ack is not None:
                said = await ack(**self._pick(args, ack_wanted, None))
                if not said:
                    await args.ack()
                elif isinstance(said, dict):
                    await args.ack(**said)
                    refused = said.get("response_action") == "errors"
                else:
                    await args.ack(text=said)
            async with self._tracker.busy():
                claim = await self._claimed(args.context)
                if claim is None:
                    return
                async with self._claims.held(claim):
                    if not refused:  # a modal sent back with errors submitted nothing
                        await handler(**self._pick(args, wanted, Work(claim)))

        once.__name__ = once.__qualname__ = handler.__name__
        register(once)
        return handler

    def _pick(self, args: AsyncArgs, names: tuple[str, ...], work: Work | None) -> dict[str, Any]:
        """A handler's arguments by name: ``work``, what the app provides, Bolt's own, or the
        request context's."""
        picked: dict[str, Any] = {}
        for name in names:
            if name == "work":
                picked[name] = work
            elif name in self._provides:
                picked[name] = self._provides[name]
            elif hasattr(args, name):
                picked[name] = getattr(args, name)
            else:
                picked[name] = args.context.get(name)
        return picked

    async def _claimed(self, context: dict) -> Claim | None:
        """The request's claim once it is written, or None when another process has it."""
        pending: asyncio.Future[Claim] | None = context.get("claim")
        if pending is None:  # nothing to claim: an edit, a bot's message, our own post
            return None
        claim = await pending
        if not claim.acquired:
            log.info("dropped a duplicate of %s", claim.key)
            return None
        return claim


async def _silent() -> None:
    return None


def _first_word_is(word: str) -> Callable[..., Awaitable[bool]]:
    async def matches(body: dict) -> bool:
        return (body.get("text") or "").split(maxsplit=1)[:1] == [word]

    return matches


def _parameters(function: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)
