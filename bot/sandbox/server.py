"""Sandbox: the local Slack. One object owns the workspace, the Web API, event delivery
(HTTP or Socket Mode), response URLs and the control API, and serves them on one aiohttp port.

    async with Sandbox(request_url="http://127.0.0.1:3000/slack/events") as sandbox:
        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        posted = sandbox.post_message("alice", "general", "@teammate hello")
        replies = await sandbox.wait_for_replies("general", posted["ts"], count=1)

A Socket Mode app connects with `sandbox.app_token` instead; while it has a connection open,
everything is delivered over it rather than to the request URL.

With `state_path`, the workspace and the secrets live in that JSON file and survive a
restart (see persist.py); without it, everything is forgotten when the process ends.

With `manifest` (the app's manifest file, or its parsed content), the sandbox behaves as
Slack would for that app: only subscribed events are delivered, only declared slash commands
reach it, and the bot carries the manifest's name (see app_manifest.py).

The same port serves a browser page at / (see webui.py) where a person can chat with the bot,
complete the manifest's slash commands, press buttons, pick options and fill in modals.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox import app_manifest, control, ids
from bot.sandbox.app_manifest import AppManifest
from bot.sandbox.calllog import CallLog
from bot.sandbox.changes import ChangeFeed, Predicate, Subscription
from bot.sandbox.config import SandboxConfig
from bot.sandbox.delivery import Delivery
from bot.sandbox.events import EventEmitter
from bot.sandbox.holds import Hold, Match
from bot.sandbox.interactions import Interactions
from bot.sandbox.lookup import ControlError, require_channel, require_user
from bot.sandbox.methods import ApiContext
from bot.sandbox.modals import Triggers, Views
from bot.sandbox.people import People
from bot.sandbox.persist import StateFile
from bot.sandbox.rates import RateLimiter
from bot.sandbox.responses import ResponseUrls
from bot.sandbox.seed import seed
from bot.sandbox.shapes import (
    assistant_view,
    channel_json,
    ephemeral_view,
    message_view,
    user_json,
)
from bot.sandbox.sockets import SocketHub
from bot.sandbox.state import Channel, Identity, User, Workspace
from bot.sandbox.webapi import WebApi
from bot.sandbox.webui import WebUi

_MAX_BODY = 8 * 1024 * 1024


class Sandbox:
    """A local Slack workspace that a real Bolt app can talk to over HTTP or Socket Mode."""

    def __init__(
        self,
        request_url: str | None = None,
        signing_secret: str | None = None,
        bot_token: str | None = None,
        rate_limits: bool = True,
        retry_schedule: Sequence[float] = (0, 1, 5),
        ack_timeout: float = 3.0,
        *,
        rate_scale: float = 1.0,
        bot_events: bool = True,
        identity: Identity | None = None,
        verification_token: str | None = None,
        app_token: str | None = None,
        state_path: str | Path | None = None,
        manifest: str | Path | dict[str, Any] | AppManifest | None = None,
    ) -> None:
        self.config = SandboxConfig(
            request_url=request_url,
            ack_timeout=float(ack_timeout),
            retry_schedule=tuple(float(d) for d in retry_schedule),
            rate_limits=rate_limits,
            rate_scale=float(rate_scale),
            bot_events=bot_events,
        )
        self.url = ""
        self.feed = ChangeFeed()
        self.ws = Workspace(identity, listener=self.feed.publish)
        self.state_file = StateFile(state_path) if state_path is not None else None
        saved = None
        if self.state_file is not None:
            saved = self.state_file.load(self.ws, keep_identity=identity is not None)
        if saved is None:
            seed(self.ws)
        self.manifest = app_manifest.load(manifest)
        if manifest is not None:
            self._name_the_bot()
        kept = saved or {}
        self._signing_secret = signing_secret or kept.get("signing_secret") or ids.signing_secret()
        self._bot_token = bot_token or kept.get("bot_token") or ids.bot_token()
        self.verification_token = (
            verification_token or kept.get("verification_token") or ids.random_code(24)
        )
        self._app_token = (
            app_token or kept.get("app_token") or ids.app_token(self.ws.identity.app_id)
        )
        if self.state_file is not None:
            self.state_file.track(self)
        self.calls_log = CallLog(on_record=self._on_call)
        self.sockets = SocketHub(lambda: self.app_id, lambda: self.url, self.feed.publish)
        self.delivery = Delivery(
            self.config, self._signing_secret, on_record=self._on_delivery, sockets=self.sockets
        )
        self.limiter = RateLimiter()
        self._sync_limiter()
        self.events = EventEmitter(
            self.ws, self.delivery, self.config, self.verification_token, self.manifest
        )
        self.hooks = ResponseUrls(self.ws, self.events, lambda: self.url)
        self.people = People(self.ws, self.events)
        self.views = Views(self.ws, Triggers())
        self.interactions = Interactions(
            self.ws, self.delivery, self.hooks, self.verification_token, self.views, self.manifest
        )
        context = ApiContext(
            self.ws, self.config, self.events, lambda: self.url, self.sockets, self.views
        )
        self.webapi = WebApi(
            context,
            self.limiter,
            self.calls_log,
            lambda: self._bot_token,
            lambda: self._app_token,
            self.manifest.scopes,
        )
        self.webui = WebUi(self)
        self._runner: web.AppRunner | None = None

    def _name_the_bot(self) -> None:
        """The bot user is called what the manifest calls it (ids stay fixed)."""
        ident = self.ws.identity
        ident.bot_name = self.manifest.bot_name
        ident.bot_real_name = self.manifest.bot_display_name
        bot = self.ws.users.get(ident.bot_user_id)
        if bot is not None:
            bot.name = ident.bot_name
            bot.real_name = bot.display_name = ident.bot_real_name

    # -- identity and secrets ------------------------------------------------------------------

    @property
    def signing_secret(self) -> str:
        return self._signing_secret

    @property
    def bot_token(self) -> str:
        return self._bot_token

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-): good only for apps.connections.open (Socket Mode)."""
        return self._app_token

    @property
    def bot_user_id(self) -> str:
        return self.ws.identity.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.ws.identity.bot_id

    @property
    def app_id(self) -> str:
        return self.ws.identity.app_id

    @property
    def team_id(self) -> str:
        return self.ws.identity.team_id

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def request_url(self) -> str | None:
        return self.config.request_url

    @request_url.setter
    def request_url(self, value: str | None) -> None:
        self.config.request_url = value

    def info(self) -> dict[str, Any]:
        """Everything a bot needs to connect (this is a local sandbox: secrets included)."""
        return {
            "url": self.url,
            "api_url": self.api_url,
            "request_url": self.config.request_url,
            "signing_secret": self.signing_secret,
            "bot_token": self.bot_token,
            "app_token": self.app_token,
            "verification_token": self.verification_token,
            "team_id": self.team_id,
            "bot_user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "sockets": self.sockets.connections(),
            "config": self.config.to_json(),
            "manifest": self.manifest.view(),
        }

    # -- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """The aiohttp application (Web API, Socket Mode, response URLs, control API, page)."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.add_routes(self.webapi.routes())
        app.add_routes(self.sockets.routes())
        app.add_routes(self.hooks.routes())
        app.add_routes(control.routes(self))
        self.webui.install(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Sandbox:
        """Binds and serves; sets .url and .api_url."""
        runner = web.AppRunner(self.build_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        if self.state_file is not None:
            await self.state_file.open()
        return self

    async def stop(self) -> None:
        await self.delivery.close()
        await self.sockets.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.state_file is not None:
            await self.state_file.close()

    async def __aenter__(self) -> Sandbox:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- configuration -------------------------------------------------------------------------

    def configure(self, **values: Any) -> dict[str, Any]:
        """Changes settings at run time (see SandboxConfig); returns them all."""
        self.config.update(values)
        self._sync_limiter()
        self.webapi.reconfigured()
        return self.config.to_json()

    def _sync_limiter(self) -> None:
        self.limiter.enabled = self.config.rate_limits
        self.limiter.scale = self.config.rate_scale
        self.limiter.post_burst = self.config.post_burst
        self.limiter.overrides = dict(self.config.tier_overrides)

    def reset(self) -> None:
        """Back to the seed workspace; logs, hooks and rate windows are emptied.

        A state file is rewritten with the seed at once (secrets kept, so the bot still fits).
        """
        self.ws.clear()
        seed(self.ws)
        self.views.reset()
        self.interactions.clear()
        self.calls_log.clear()
        self.delivery.clear()
        self.limiter.reset()
        self.hooks.clear()
        if self.state_file is not None:
            self.state_file.save_soon()

    # -- acting as people ------------------------------------------------------------------------

    def post_message(
        self,
        user: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Posts as a person; returns {ts, channel, thread_ts, event_ids}."""
        return self.people.post_message(user, channel, text, thread_ts, blocks)

    def edit_message(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        return self.people.edit_message(channel, ts, text)

    def delete_message(self, channel: str, ts: str) -> dict[str, Any]:
        return self.people.delete_message(channel, ts)

    async def run_command(
        self, user: str, channel: str, command: str, text: str = ""
    ) -> dict[str, Any]:
        """Runs a slash command; returns {status, body, elapsed_ms, trigger_id, failed, note}."""
        return await self.interactions.run_command(user, channel, command, text)

    async def click(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
    ) -> dict[str, Any]:
        """Clicks a button, or picks `value` in a select, menu or picker, on a message;
        returns {status, elapsed_ms, trigger_id, failed, note, action}."""
        return await self.interactions.click(user, channel, message_ts, action_id, value)

    async def act_in_view(
        self, user: str, view_id: str, action_id: str, value: Any = None
    ) -> dict[str, Any]:
        """The same in a modal or the Home tab (view_id "home" is the user's Home tab)."""
        return await self.interactions.act_in_view(user, view_id, action_id, value)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Fills in inputs ({block_id: {action_id: choice}}) and presses the modal's submit."""
        return await self.interactions.submit_view(user, view_id, values)

    async def close_view(self, user: str, view_id: str, *, clear: bool = False) -> dict[str, Any]:
        """Presses the modal's close button (clear: closes the whole stack)."""
        return await self.interactions.close_view(user, view_id, clear=clear)

    async def suggest(self, user: str, action_id: str, query: str = "", **where: Any) -> dict:
        """The options the app offers for an external select (view_id=, or channel= and
        message_ts=)."""
        return await self.interactions.suggest(user, action_id, query, **where)

    def open_assistant_thread(
        self, user: str, context_channel: str | None = None
    ) -> dict[str, Any]:
        """Opens the assistant panel for a user; returns {channel, thread_ts, event_ids}."""
        return self.people.open_assistant_thread(user, context_channel)

    def open_home(self, user: str) -> dict[str, Any]:
        return self.people.open_home(user)

    # -- looking ---------------------------------------------------------------------------------

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The parent and its replies, oldest first, as the control API shows them."""
        room = require_channel(self.ws, channel)
        return [message_view(m, self.ws) for m in self.ws.thread(room, ts)]

    def replies(self, channel: str, ts: str, *, from_bot: bool = False) -> list[dict[str, Any]]:
        """Only the replies of a thread (optionally only the bot's)."""
        replies = self.thread(channel, ts)[1:]
        if from_bot:
            replies = [r for r in replies if r.get("bot_id") == self.bot_id]
        return replies

    def channel_messages(self, channel: str, *, include_replies: bool = False) -> list[dict]:
        room = require_channel(self.ws, channel)
        source = room.messages.values() if include_replies else self.ws.top_level(room)
        return [message_view(m, self.ws) for m in source]

    def channels(self) -> list[dict[str, Any]]:
        result = []
        for room in self.ws.channels.values():
            data = channel_json(room, self.ws)
            data["name"] = room.name
            data["members"] = sorted(room.members)
            data["bot_member"] = self.ws.bot_is_member(room)
            result.append(data)
        return result

    def users(self) -> list[dict[str, Any]]:
        return [user_json(u, self.ws) for u in self.ws.users.values()]

    def ephemeral(self, user: str, channel: str | None = None) -> list[dict[str, Any]]:
        person = require_user(self.ws, user)
        room = require_channel(self.ws, channel) if channel else None
        notes = self.ws.ephemeral.get(person.id, [])
        return [ephemeral_view(n) for n in notes if room is None or n.channel == room.id]

    def assistant(self, channel: str, thread_ts: str) -> dict[str, Any] | None:
        """Status history, suggested prompts and title the bot set on a thread."""
        room = require_channel(self.ws, channel)
        thread = self.ws.assistant.get((room.id, thread_ts))
        return assistant_view(thread) if thread is not None else None

    def home(self, user: str) -> dict[str, Any] | None:
        return self.ws.home.get(require_user(self.ws, user).id)

    def modals(self, user: str) -> list[dict[str, Any]]:
        """The user's open modal stack, bottom first, each with its state and errors."""
        return self.views.snapshot().get(require_user(self.ws, user).id, [])

    def modal(self, user: str) -> dict[str, Any] | None:
        """The modal on top of the user's stack, or None."""
        stack = self.modals(user)
        return stack[-1] if stack else None

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Web API call log (tokens removed), optionally for one method."""
        return self.calls_log.list(method)

    @property
    def ratelimited(self) -> int:
        """How many calls were answered 429."""
        return self.calls_log.ratelimited

    def deliveries(self, kind: str | None = None, id: str | None = None) -> list[dict]:
        """Every delivery attempt: {kind, id, label, transport, retry_num, outcome, status...}."""
        return self.delivery.attempts(kind, id)

    def envelope(self, event_id: str) -> dict[str, Any] | None:
        return self.delivery.envelope(event_id)

    async def redeliver(
        self, event_id: str, retry_num: int = 1, reason: str = "http_timeout"
    ) -> dict[str, Any]:
        """Sends a stored event again as Slack's retry `retry_num`; returns the attempt."""
        try:
            return await self.delivery.redeliver(event_id, retry_num, reason)
        except KeyError as exc:
            raise ControlError(f"no event {event_id!r}", 404) from exc

    def pause_delivery(self) -> None:
        self.delivery.pause()

    def resume_delivery(self) -> None:
        self.delivery.resume()

    @contextlib.contextmanager
    def holding(self, method: str, match: Match = lambda args: True) -> Iterator[Hold]:
        """Keep back the answers to the ``method`` calls whose arguments ``match`` (the calls
        take effect) until the block ends (see :mod:`bot.sandbox.holds`)."""
        hold = Hold(method, match)
        self.webapi.holds.add(hold)
        try:
            yield hold
        finally:
            self.webapi.holds.remove(hold)

    async def settle(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109
        """Waits until every pending delivery and retry is done."""
        return await self.delivery.drain(timeout)

    # -- Socket Mode -----------------------------------------------------------------------------

    def socket_connections(self) -> list[dict[str, Any]]:
        """The open Socket Mode connections: {id, opened, sent, acked, waiting}."""
        return self.sockets.connections()

    async def disconnect_sockets(self, reason: str = "refresh_requested") -> int:
        """Sends Slack's `disconnect` to every connection (the app should reconnect)."""
        return await self.sockets.disconnect(reason)

    async def close_sockets(self) -> None:
        """Closes every connection from Slack's side, as when Slack recycles a server."""
        await self.sockets.close()

    # -- waiting ---------------------------------------------------------------------------------

    async def wait_for(self, predicate: Predicate, timeout: float = 10.0) -> Any:  # noqa: ASYNC109
        """Returns the predicate's first truthy value, re-checked after each change."""
        return await self.feed.wait_for(predicate, timeout)

    async def wait_for_replies(
        self,
        channel: str,
        ts: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        done: bool = True,
        from_bot: bool = False,
    ) -> list[dict[str, Any]]:
        """Waits for `count` replies in a thread (and, with done, none still streaming)."""

        def ready() -> list[dict[str, Any]] | None:
            replies = self.replies(channel, ts, from_bot=from_bot)
            if len(replies) < count:
                return None
            if done and any(r["streaming"] for r in replies):
                return None
            return replies

        return await self.wait_for(ready, timeout)

    def subscribe(self) -> Subscription:
        """Change records ({seq, kind, t, ...}) from now on; for live views.

        async with sandbox.subscribe() as changes:
            async for change in changes: ...
        """
        return self.feed.subscribe()

    # -- shaping the workspace ---------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        real_name: str | None = None,
        *,
        id: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        email: str | None = None,
        title: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
    ) -> dict[str, Any]:
        if self.ws.find_user(name) is not None:
            raise ControlError(f"user {name!r} exists", 409)
        user_id = id or f"U0{name.upper().replace('.', '')[:9]}"
        if user_id in self.ws.users:
            raise ControlError(f"user id {user_id!r} exists", 409)
        user = User(
            id=user_id,
            name=name,
            real_name=real_name or name.title(),
            display_name=display_name or (real_name or name).split()[0],
            tz=tz,
            email=email,
            title=title,
            is_admin=is_admin,
            is_owner=is_owner,
        )
        self.ws.add_user(user)
        return user_json(user, self.ws)

    def add_channel(
        self,
        name: str,
        *,
        id: str | None = None,
        is_private: bool = False,
        bot_member: bool = True,
        members: Sequence[str] | None = None,
        topic: str = "",
        is_ext_shared: bool = False,
    ) -> dict[str, Any]:
        name = name.lstrip("#")
        if self.ws.find_channel(name) is not None:
            raise ControlError(f"channel {name!r} exists", 409)
        channel_id = id or f"C0{name.upper().replace('-', '')[:9]}"
        if channel_id in self.ws.channels:
            raise ControlError(f"channel id {channel_id!r} exists", 409)
        people = members if members is not None else [u.id for u in self.ws.users.values()]
        room = Channel(
            id=channel_id,
            name=name,
            is_private=is_private,
            topic=topic,
            is_ext_shared=is_ext_shared,
        )
        room.members = {require_user(self.ws, ref).id for ref in people}
        if bot_member:
            room.members.add(self.bot_user_id)
        else:
            room.members.discard(self.bot_user_id)
        self.ws.add_channel(room)
        return channel_json(room, self.ws)

    def set_members(
        self, channel: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> list[str]:
        """Adds and removes members (the bot too, by its id or name); returns the members."""
        room = require_channel(self.ws, channel)
        for ref in add:
            self.ws.set_member(room, require_user(self.ws, ref).id, True)
        for ref in remove:
            self.ws.set_member(room, require_user(self.ws, ref).id, False)
        return sorted(room.members)

    # -- feed hooks ------------------------------------------------------------------------------

    def _on_call(self, record: dict[str, Any]) -> None:
        self.feed.publish(
            "call",
            {"method": record["method"], "ok": record["ok"], "error": record["error"]},
        )

    def _on_delivery(self, record: dict[str, Any]) -> None:
        self.feed.publish(
            "delivery",
            {
                "delivery_kind": record["kind"],
                "id": record["id"],
                "label": record["label"],
                "status": record["status"],
                "outcome": record["outcome"],
                "retry_num": record["retry_num"],
            },
        )
