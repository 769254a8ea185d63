"""Keeps the sandbox's workspace in one JSON file, so a restart keeps the conversations.

What is saved: the identity, users, channels and membership, DMs, every message and thread
(edits, reactions, tombstones, stream chunks), ephemeral messages, assistant threads, App Home
views, the ts clock, and the secrets a bot connects with (signing secret, bot token, app token,
verification token). What is not: the Web API call log, delivery records, rate-limit windows,
response URLs, Socket Mode connections and the run-time settings. Those describe one run,
and a bot that restarts with the sandbox expects them fresh.

Loading (when the Sandbox is created, so its tokens are known before it starts):
  * a missing file means a new workspace: the seed, with fresh secrets;
  * secrets and the identity come from the file unless given to the constructor, which wins
    (a restarted bot keeps matching the restarted sandbox without being told anything new);
  * the ts clock resumes past every saved ts, so new messages sort after old ones;
  * a message that was mid-stream loads as finished: nobody is left to continue it;
  * a file that cannot be read, parsed or understood (including one from a newer format) is
    logged, renamed to `<name>.corrupt-<UTC time>` and the seed is used. It is never
    deleted, and never overwritten: if it cannot be moved aside, nothing is saved this run.

Saving: every workspace change schedules a write `delay` seconds later, so a burst of changes
costs one write; start() writes at once (the secrets are on disk before a bot uses them) and
stop() writes the final state. Each write goes to a temporary file in the same directory, is
fsynced and then renamed over the old file, so a crash leaves either the old file or the new
one, never half of either. The file is created readable by its owner only: it holds secrets.

The document: {"format": "teammate-sandbox-workspace", "version": 1, "saved_at", "clock"
(microseconds of the last ts handed out), "secrets", "identity", "users", "channels" (each
with "members", "messages" in posting order and "replies"), "ephemeral" (per user),
"assistant", "home" (per user)}. Any change of layout bumps VERSION, so an old sandbox sets
a newer file aside instead of misreading it.

Two sandboxes must not share one file; the last to write wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.sandbox.ids import ts_key
from bot.sandbox.state import (
    AssistantThread,
    Channel,
    Ephemeral,
    Identity,
    Message,
    User,
    Workspace,
)

log = logging.getLogger(__name__)

FORMAT = "teammate-sandbox-workspace"
VERSION = 1
SECRET_NAMES = ("signing_secret", "bot_token", "app_token", "verification_token")
DEFAULT_DELAY = 0.5

# Monotonic-clock readings mean nothing in another process; they load as their defaults.
_MESSAGE_SKIP = frozenset({"stream_touched"})
_CHANNEL_SKIP = frozenset({"members", "messages", "replies"})

T = TypeVar("T")


class CorruptState(Exception):
    """The state file exists but cannot be used."""


class Owner(Protocol):
    """What the state file needs of the sandbox it saves: the workspace and its secrets."""

    ws: Workspace
    verification_token: str

    @property
    def signing_secret(self) -> str: ...

    @property
    def bot_token(self) -> str: ...

    @property
    def app_token(self) -> str: ...


# -- encoding ----------------------------------------------------------------------------------


def _fields(obj: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready values (a deep copy, so later edits do not leak in)."""
    return {
        f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in skip
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def dump(ws: Workspace, secrets: dict[str, str]) -> dict[str, Any]:
    """The whole workspace as one JSON-ready document."""
    channels = []
    for channel in ws.channels.values():
        data = _fields(channel, _CHANNEL_SKIP)
        data["members"] = sorted(channel.members)
        data["messages"] = [_fields(m, _MESSAGE_SKIP) for m in channel.messages.values()]
        data["replies"] = {parent: list(tss) for parent, tss in channel.replies.items()}
        channels.append(data)
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": time.time(),
        "clock": ws.clock._last_us,
        "secrets": {name: secrets[name] for name in SECRET_NAMES if secrets.get(name)},
        "identity": _fields(ws.identity),
        "users": [_fields(u) for u in ws.users.values()],
        "channels": channels,
        "ephemeral": {user: [_fields(n) for n in notes] for user, notes in ws.ephemeral.items()},
        "assistant": [_fields(t) for t in ws.assistant.values()],
        "home": _plain(ws.home),
    }


def encode(ws: Workspace, secrets: dict[str, str]) -> bytes:
    return json.dumps(dump(ws, secrets), ensure_ascii=False, indent=1).encode("utf-8")


# -- decoding ----------------------------------------------------------------------------------


def _build(cls: type[T], data: Any, skip: frozenset[str] = frozenset()) -> T:
    """A dataclass from saved fields; unknown keys are ignored, missing ones take defaults."""
    if not isinstance(data, dict):
        raise CorruptState(f"expected an object for {cls.__name__}, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)} - skip  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known})


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CorruptState(f"{what} must be a non-empty string")
    return value


def _list(data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise CorruptState(f"{what} must be a list")
    return data


def _dict(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CorruptState(f"{what} must be an object")
    return data


def parse(raw: bytes) -> dict[str, Any]:
    """Checks the envelope: JSON object, our format, a version this code understands."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptState(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CorruptState("not a sandbox workspace file")
    version = data.get("version")
    if version != VERSION:
        raise CorruptState(f"format version {version!r}; this sandbox reads version {VERSION}")
    return data


def restore(ws: Workspace, data: dict[str, Any], *, keep_identity: bool = False) -> dict[str, str]:
    """Replaces the workspace's contents with a parsed document; returns the saved secrets.

    Everything is built first and swapped in at the end, so a bad document leaves the
    workspace as it was. keep_identity keeps the workspace's own identity (one given to the
    constructor) instead of the saved one.
    """
    try:
        identity = _build(Identity, data.get("identity", {}))
        users = {}
        for raw in _list(data["users"], "users"):
            user = _build(User, raw)
            users[_text(user.id, "a user id")] = user
        channels = {}
        for raw in _list(data["channels"], "channels"):
            channel = _build(Channel, raw, _CHANNEL_SKIP)
            channel.members = {str(m) for m in _list(raw.get("members", []), "members")}
            for item in _list(raw.get("messages", []), "messages"):
                message = _build(Message, item, _MESSAGE_SKIP)
                message.streaming = False
                channel.messages[_text(message.ts, "a message ts")] = message
            replies = _dict(raw.get("replies", {}), "replies")
            channel.replies = {
                str(p): [str(t) for t in _list(r, "replies")] for p, r in replies.items()
            }
            channels[_text(channel.id, "a channel id")] = channel
        ephemeral = {
            str(user): [_build(Ephemeral, n) for n in _list(notes, "ephemeral")]
            for user, notes in _dict(data.get("ephemeral", {}), "ephemeral").items()
        }
        assistant = {}
        for raw in _list(data.get("assistant", []), "assistant"):
            thread = _build(AssistantThread, raw)
            assistant[(thread.channel, thread.thread_ts)] = thread
        home = {
            str(u): _dict(v, "home view") for u, v in _dict(data.get("home", {}), "home").items()
        }
        clock = int(data.get("clock") or 0)
        secrets = _dict(data.get("secrets", {}), "secrets")
        saved_secrets = {k: str(secrets[k]) for k in SECRET_NAMES if secrets.get(k)}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptState(f"unusable contents: {exc!r}") from exc

    if keep_identity:
        if identity != ws.identity:
            log.warning(
                "sandbox state: the saved workspace belongs to bot %s in team %s; "
                "using the given identity (bot %s in team %s) with it",
                identity.bot_user_id,
                identity.team_id,
                ws.identity.bot_user_id,
                ws.identity.team_id,
            )
    else:
        ws.identity = identity
    ws.users, ws.channels, ws.ephemeral = users, channels, ephemeral
    ws.assistant, ws.home = assistant, home
    ws.clock._last_us = max(clock, _latest_ts(channels, ephemeral), ws.clock._last_us)
    return saved_secrets


def _latest_ts(channels: dict[str, Channel], ephemeral: dict[str, list[Ephemeral]]) -> int:
    """The largest ts in use: the clock must never hand it out again, even if the saved
    clock value was lost or edited."""
    seen = [0]
    for channel in channels.values():
        for message in channel.messages.values():
            seen.append(ts_key(message.ts))
            if message.edited and message.edited.get("ts"):
                seen.append(ts_key(message.edited["ts"]))
    for notes in ephemeral.values():
        seen.extend(ts_key(n.ts) for n in notes)
    return max(seen)


# -- files -------------------------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Replaces `path` with `data` so that a crash at any point leaves the old or new file.

    The temporary file lives in the same directory (a rename across file systems is not
    atomic) and is fsynced before the rename; the directory is fsynced after it so the rename
    itself survives a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def move_aside(path: Path) -> Path:
    """Renames an unusable file to `<name>.corrupt-<UTC time>` (never over another one)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.rename(path, target)
    return target


# -- the saver ---------------------------------------------------------------------------------


class StateFile:
    """One sandbox's state file: loads it once, then saves after changes, debounced."""

    def __init__(self, path: str | os.PathLike[str], delay: float = DEFAULT_DELAY) -> None:
        self.path = Path(path)
        self.delay = delay
        self.writes = 0
        self.enabled = True
        self._owner: Owner | None = None
        self._running = False
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[bool]] = set()
        self._lock: asyncio.Lock | None = None

    # loading

    def load(self, ws: Workspace, *, keep_identity: bool = False) -> dict[str, str] | None:
        """Fills `ws` from the file; returns the saved secrets, or None to use the seed.

        A missing file gives None quietly; an unusable one is moved aside with a warning.
        """
        self._clean_temporaries()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._set_aside(f"cannot be read ({exc.strerror or exc})")
            return None
        try:
            secrets = restore(ws, parse(raw), keep_identity=keep_identity)
        except CorruptState as exc:
            self._set_aside(str(exc))
            return None
        log.info("sandbox state: loaded the workspace from %s", self.path)
        return secrets

    def _set_aside(self, reason: str) -> None:
        try:
            moved = move_aside(self.path)
        except OSError as exc:
            self.enabled = False
            log.warning(
                "sandbox state: %s %s and could not be moved aside (%s); starting from the "
                "seed workspace and saving nothing this run, so the file is left untouched",
                self.path,
                reason,
                exc.strerror or exc,
            )
            return
        log.warning(
            "sandbox state: %s %s; moved it to %s and started from the seed workspace",
            self.path,
            reason,
            moved.name,
        )

    def _clean_temporaries(self) -> None:
        """Removes temporary files a crash in the middle of a write left behind."""
        with contextlib.suppress(OSError):
            for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()

    # saving

    def track(self, owner: Owner) -> None:
        """Starts listening to the owner's workspace changes."""
        self._owner = owner
        owner.ws.observers.append(self.changed)

    def changed(self, kind: str, data: dict[str, Any]) -> None:
        """A workspace change: save within `delay` seconds (once, however many follow).

        Open modals are not saved: like Slack's, they do not outlive the session."""
        if not self._running or self._timer is not None or kind == "modal":
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # changed from outside the loop: the next save or stop() catches it up
        self._timer = loop.call_later(self.delay, self._fire)

    def save_soon(self) -> None:
        """Saves on the next turn of the event loop; before start(), open() saves anyway."""
        if not self._running:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._fire()

    def _fire(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.save())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def save(self) -> bool:
        """Writes the current state now; returns whether it was written.

        The snapshot is taken on the event loop (so it is consistent), the disk work happens
        in a thread (so a slow disk does not stall the sandbox), one write at a time.
        """
        if not self.enabled or self._owner is None:
            return False
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            owner = self._owner
            secrets = {name: getattr(owner, name) for name in SECRET_NAMES}
            data = encode(owner.ws, secrets)
            try:
                await asyncio.to_thread(write_atomic, self.path, data)
            except OSError as exc:
                log.warning("sandbox state: could not save %s: %s", self.path, exc)
                return False
            self.writes += 1
            return True

    async def flush(self) -> None:
        """Writes any pending change now and waits until every write is done."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            await self.save()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def open(self) -> None:
        """Begins saving; writes at once so the file (and its secrets) exist from the start."""
        self._running = True
        await self.save()

    async def close(self) -> None:
        """Stops saving after writing the final state."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.save()
