"""Logging setup: one line per record, with secrets redacted before anything is written.

Tokens and keys can reach a log through an exception message or a request dump; the filter
rewrites every record's message, arguments included, so none survives to the output. The
redactor is the core's (:mod:`bot.core.redact`), the same one that cleans error details.
"""

from __future__ import annotations

import logging
from typing import IO

from bot.core.redact import redact

__all__ = ["RedactingFilter", "configure", "redact"]


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned += "\n" + redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = cleaned, None
        return True


def configure(level: str = "INFO", stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("slack_bolt", "slack_sdk", "httpx2", "httpcore2", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
