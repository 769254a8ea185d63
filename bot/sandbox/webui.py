"""The sandbox's browser UI: a local Slack in one page, fed live by the sandbox itself.

    GET /                     the page (bot/sandbox/web/index.html)
    GET /static/{file}        its stylesheet and scripts (ES modules: app.js, blocks.js, markup.js)
    GET /_sandbox/snapshot    everything the page draws, as one JSON document
    GET /_sandbox/stream      the change feed as Server-Sent Events (one record per event)

The page acts as a person through the ordinary control API (/_sandbox/messages, /commands,
/actions, /views/submit, /views/close, /assistant/threads, /home/open), so the bot sees
exactly what it would see from Slack. On each change it refetches the snapshot (debounced)
and redraws what differs.

Written by hand rather than with a front-end framework: the page is plain JavaScript with no
build step and no download (the machine that runs it may have no network), and most of it is
the three renderers Slack needs anyway: mrkdwn, Markdown for streamed answers, and Block Kit.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from bot.sandbox.app_manifest import AppManifest
from bot.sandbox.changes import ChangeFeed
from bot.sandbox.modals import Views
from bot.sandbox.shapes import assistant_view, ephemeral_view, message_view
from bot.sandbox.state import Workspace

WEB_DIR = Path(__file__).with_name("web")
PING_SECONDS = 15.0
_ASSETS = ("index.html", "app.css", "app.js", "blocks.js", "markup.js")
_CLOSED: dict[str, Any] = {"kind": "_closed"}


class Drawn(Protocol):
    """What the page is drawn from: the workspace, the open views, the app's manifest and the
    change feed (a Sandbox is one)."""

    ws: Workspace
    feed: ChangeFeed
    views: Views
    manifest: AppManifest


async def _revalidate_static(request: web.Request, response: web.StreamResponse) -> None:
    """Modules the script imports carry no version stamp: the browser asks each time."""
    if request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-cache"


def _read_page() -> str:
    """index.html, its asset links stamped with their age so a browser never runs stale code."""
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    version = str(max(int((WEB_DIR / name).stat().st_mtime) for name in _ASSETS))
    return page.replace("{{version}}", version)


class WebUi:
    """Serves the page, the snapshot and the live stream for one sandbox."""

    def __init__(self, source: Drawn) -> None:
        self.source = source
        self._streams: set[asyncio.Queue[dict[str, Any]]] = set()
        self._closing = False

    # -- the snapshot --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the page needs to draw the workspace as it is now."""
        ws = self.source.ws
        ident = ws.identity
        users = [
            {
                "id": u.id,
                "name": u.name,
                "real_name": u.real_name,
                "display_name": u.display_name or u.real_name,
                "is_bot": u.is_bot,
                "tz": u.tz,
                "email": u.email,
                "deleted": u.deleted,
            }
            for u in ws.users.values()
        ]
        channels, dms, messages = [], [], {}
        for room in ws.channels.values():
            if room.is_im:
                dms.append({"id": room.id, "user": room.im_user})
            else:
                channels.append(
                    {
                        "id": room.id,
                        "name": room.name,
                        "topic": room.topic,
                        "purpose": room.purpose,
                        "is_private": room.is_private,
                        "members": sorted(room.members),
                        "bot_member": ws.bot_is_member(room),
                    }
                )
            messages[room.id] = [self._message(m) for m in room.messages.values()]
        return {
            "seq": self.source.feed.seq,
            "team": {"id": ident.team_id, "name": ident.team_name, "domain": ident.team_domain},
            "bot": {
                "user_id": ident.bot_user_id,
                "bot_id": ident.bot_id,
                "app_id": ident.app_id,
                "name": ident.bot_real_name,
                "home_tab": self.source.manifest.home_tab,
            },
            "users": users,
            "channels": channels,
            "dms": dms,
            "messages": messages,
            "ephemeral": {
                user: [ephemeral_view(n) for n in notes] for user, notes in ws.ephemeral.items()
            },
            "assistant": [assistant_view(t) for t in ws.assistant.values()],
            "home": dict(ws.home),
            "modals": self.source.views.snapshot(),
            "slash_commands": self.source.manifest.command_views(),
        }

    def _message(self, message: Any) -> dict[str, Any]:
        data = message_view(message, self.source.ws)
        data["markdown"] = message.markdown
        data.pop("metadata", None)
        return data

    # -- HTTP ----------------------------------------------------------------------------------

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self._index),
            web.get("/index.html", self._index),
            web.get("/_sandbox/snapshot", self._snapshot),
            web.get("/_sandbox/stream", self._stream),
            web.static("/static", WEB_DIR),
        ]

    def install(self, app: web.Application) -> None:
        """Adds the routes, and ends open streams when the server shuts down."""
        app.add_routes(self.routes())
        app.on_shutdown.append(self._on_shutdown)
        app.on_response_prepare.append(_revalidate_static)

    async def _on_shutdown(self, app: web.Application) -> None:
        self.close()

    def close(self) -> None:
        """Ends every open stream (a browser would otherwise hold the server open)."""
        self._closing = True
        for queue in list(self._streams):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(_CLOSED)

    async def _index(self, request: web.Request) -> web.Response:
        page = await asyncio.to_thread(_read_page)
        headers = {"Cache-Control": "no-store"}
        return web.Response(text=page, content_type="text/html", headers=headers)

    async def _snapshot(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot(), headers={"Cache-Control": "no-store"})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        if self._closing:
            return response
        async with self.source.feed.subscribe() as changes:
            self._streams.add(changes.queue)
            try:
                hello = json.dumps({"kind": "hello", "seq": self.source.feed.seq})
                await response.write(f"retry: 1000\ndata: {hello}\n\n".encode())
                while True:
                    try:
                        record = await asyncio.wait_for(changes.queue.get(), PING_SECONDS)
                    except TimeoutError:
                        await response.write(b": ping\n\n")
                        continue
                    if record is _CLOSED:
                        break
                    line = json.dumps(record, default=str)
                    await response.write(f"id: {record['seq']}\ndata: {line}\n\n".encode())
            except (ConnectionError, RuntimeError):
                pass  # the page went away
            finally:
                self._streams.discard(changes.queue)
        return response
