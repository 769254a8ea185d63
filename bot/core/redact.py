"""One redactor for everything that leaves the process as text: log lines and error details.

Tokens and keys reach text through exception messages, request dumps and provider error bodies.
Known secret values are blanked exactly; anything shaped like a Slack token, an app token, an
API key, a bearer credential or a request signature is blanked by pattern, so a secret the
process was never told about is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

SECRET_PATTERN = re.compile(
    r"(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-ant-[A-Za-z0-9_-]+"
    r"|sk-[A-Za-z0-9_-]{8,}|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,}|v0=[0-9a-f]{64})"
)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every ``known`` secret value and anything shaped like a secret blanked."""
    for value in known:
        if value:
            text = text.replace(value, REDACTED)
    return SECRET_PATTERN.sub(REDACTED, text)
