"""Identifiers shaped like Slack's, so code under test sees realistic values.

Message timestamps must be unique and strictly increasing per workspace (Slack uses them as
message ids), so they come from one clock that never repeats a value.
"""

from __future__ import annotations

import secrets
import string
import time

_ALPHABET = string.ascii_uppercase + string.digits


class TsClock:
    """Hands out Slack message timestamps ("1732848000.000100"), unique and increasing."""

    def __init__(self) -> None:
        self._last_us = 0

    def next(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        return format_ts(self._last_us)


def format_ts(micros: int) -> str:
    """Formats microseconds since the epoch the way Slack writes a ts."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_key(ts: str) -> int:
    """Turns a ts string into a sortable integer (microseconds); bad input sorts first."""
    try:
        seconds, _, frac = ts.partition(".")
        return int(seconds) * 1_000_000 + int((frac + "000000")[:6] or 0)
    except (ValueError, AttributeError):
        return -1


def random_code(length: int) -> str:
    """Upper-case letters and digits, as in Slack ids."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def event_id() -> str:
    """An Events API envelope id ("Ev0ABC123...")."""
    return "Ev" + random_code(10)


def trigger_id() -> str:
    """A trigger id for slash commands and interactions, unique per interaction."""
    return f"{int(time.time())}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"


def signing_secret() -> str:
    """A fresh 32-hex-digit signing secret, like the ones Slack issues."""
    return secrets.token_hex(16)


def bot_token() -> str:
    """A fresh bot token with Slack's xoxb- prefix."""
    return f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"


def view_id() -> str:
    """An id for a published view ("V0...")."""
    return "V0" + random_code(9)


def app_token(app_id: str) -> str:
    """A fresh app-level token (xapp-), the kind Socket Mode connects with."""
    return f"xapp-1-{app_id}-{secrets.randbelow(10**13)}-{secrets.token_hex(32)}"
