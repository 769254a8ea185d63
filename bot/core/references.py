"""Reference ids: the short id a person sees beside an error and the log line that explains it."""

from __future__ import annotations

import secrets


def new_reference() -> str:
    """A short id that ties a user-visible error to its log line."""
    return secrets.token_hex(4)
