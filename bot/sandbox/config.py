"""Settings of a running sandbox; most can be changed at run time through the control API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class SandboxConfig:
    """How the emulated Slack behaves.

    retry_schedule: seconds to wait before retry 1, 2, 3 of an event (Slack: ~0, 60, 300).
    ack_timeout: seconds Slack waits for a 2xx before it gives up on a request.
    rate_scale: shrinks every rate-limit window (1.0 = Slack's real limits).
    bot_events: deliver `message` events for the bot's own posts and edits, as Slack does.
    stream_idle_timeout: a stream left this long without an append stops accepting text.
    disabled_methods: Web API methods answered `unknown_method`, as by a Slack that lacks them.
    stalled_methods: Web API methods that hang, as a Slack that stopped answering: a call made
        meanwhile is never carried out, and is answered `request_timeout` once the method is
        let go (a caller killed meanwhile never learns).
    """

    request_url: str | None = None
    ack_timeout: float = 3.0
    retry_schedule: tuple[float, ...] = (0.0, 1.0, 5.0)
    rate_limits: bool = True
    rate_scale: float = 1.0
    post_burst: int = 3
    tier_overrides: dict[str, int] = field(default_factory=dict)
    bot_events: bool = True
    stream_idle_timeout: float | None = None
    disabled_methods: tuple[str, ...] = ()
    stalled_methods: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["retry_schedule"] = list(self.retry_schedule)
        return data

    def update(self, values: dict[str, Any]) -> None:
        """Applies known keys; raises KeyError for an unknown one, ValueError for a bad value."""
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise KeyError(key)
            if key == "retry_schedule":
                value = tuple(float(v) for v in value)
            elif key in ("ack_timeout", "rate_scale") and value is not None:
                value = float(value)
                if value <= 0:
                    raise ValueError(f"{key} must be positive")
            elif key in ("disabled_methods", "stalled_methods"):
                value = tuple(str(v) for v in value)
            elif key == "tier_overrides":
                value = {str(k): int(v) for k, v in dict(value).items()}
            setattr(self, key, value)
