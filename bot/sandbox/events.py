"""Decides which Events API events a change produces, and hands them to delivery.

Slack's rules, as an app sees them: only events the app's manifest subscribes to (a message
in a public channel needs message.channels, in a DM message.im, ...); message events only from
conversations the bot is in; an app_mention beside the message event when a person names the
bot in a channel; the bot's own posts and edits come back as message events carrying bot_id
(switchable off).
"""

from __future__ import annotations

from typing import Any

from bot.sandbox import payloads
from bot.sandbox.app_manifest import AppManifest
from bot.sandbox.config import SandboxConfig
from bot.sandbox.delivery import Delivery
from bot.sandbox.state import Channel, Message, Workspace


class EventEmitter:
    """Builds event envelopes for changes and queues them; returns the event ids."""

    def __init__(
        self,
        ws: Workspace,
        delivery: Delivery,
        config: SandboxConfig,
        verification_token: str,
        manifest: AppManifest | None = None,
    ) -> None:
        self.ws = ws
        self.delivery = delivery
        self.config = config
        self.verification_token = verification_token
        self.manifest = manifest or AppManifest()

    def send(self, event: dict[str, Any], channel: Channel | None = None) -> list[str]:
        """Queues the event if the app subscribed to it; returns its id (or nothing)."""
        kind = payloads.channel_type(channel) if channel is not None else None
        if not self.manifest.wants_event(event, kind):
            return []
        envelope = payloads.envelope(event, self.ws, self.verification_token)
        return [self.delivery.send_event(envelope)]

    def _wants(self, channel: Channel, message: Message) -> bool:
        if not self.ws.bot_is_member(channel):
            return False
        if message.subtype == "assistant_app_thread":
            return False
        if self._is_own(message) and not self.config.bot_events:
            return False
        return True

    def _is_own(self, message: Message) -> bool:
        return message.bot_id == self.ws.identity.bot_id

    def message_posted(self, message: Message) -> list[str]:
        channel = self.ws.channels[message.channel]
        if not self._wants(channel, message):
            return []
        sent = self.send(payloads.message_event(message, channel, self.ws), channel)
        named = self.ws.identity.bot_user_id in payloads.mentions(message.text)
        if named and not channel.is_im and not self._is_own(message):
            sent += self.send(payloads.app_mention_event(message, channel, self.ws), channel)
        return sent

    def message_changed(self, message: Message, previous: dict[str, Any]) -> list[str]:
        channel = self.ws.channels[message.channel]
        if not self._wants(channel, message):
            return []
        event = payloads.message_changed_event(message, previous, channel, self.ws)
        return self.send(event, channel)

    def message_deleted(self, message: Message, previous: dict[str, Any]) -> list[str]:
        channel = self.ws.channels[message.channel]
        if not self._wants(channel, message):
            return []
        return self.send(payloads.message_deleted_event(previous, channel, self.ws), channel)

    def assistant_thread_started(
        self, user_id: str, channel: Channel, thread_ts: str, context: dict[str, Any]
    ) -> list[str]:
        event = payloads.assistant_thread_started_event(
            user_id, channel, thread_ts, context, self.ws
        )
        return self.send(event)

    def app_home_opened(self, user_id: str) -> list[str]:
        channel = self.ws.dm_for(user_id)
        view = self.ws.home.get(user_id)
        return self.send(payloads.app_home_opened_event(user_id, channel, self.ws, view))
