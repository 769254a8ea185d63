"""Cutting a growing Markdown answer into Slack-sized messages.

Slack refuses text over a message's limit, and a cut in the wrong place breaks the reader's
flow or a code block. Cuts fall on a paragraph, a line or a word boundary, never mid-word; a
code fence open at a cut is closed in this message and reopened, with its language, in the
next.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```(\S*)", re.MULTILINE)


def split_point(text: str, limit: int) -> int:
    """Where to cut ``text`` so that the first part is at most ``limit`` characters."""
    if len(text) <= limit:
        return len(text)
    window = text[:limit]
    for boundary in ("\n\n", "\n", " "):
        at = window.rfind(boundary)
        if at > limit // 4:
            return at + len(boundary)
    at = window.rfind(" ")
    return at + 1 if at > 0 else limit


def sendable_prefix(pending: str, final: bool) -> int:
    """How much of ``pending`` can be sent now: all of it at the end, else up to the last
    whitespace, so that no message ever ends in the middle of a word."""
    if final:
        return len(pending)
    last = max(pending.rfind(" "), pending.rfind("\n"))
    return last + 1 if last >= 0 else 0


def open_fence(text: str) -> str | None:
    """The language of a code fence left open at the end of ``text`` ('' if it has none)."""
    language: str | None = None
    for match in _FENCE.finditer(text):
        language = match.group(1) if language is None else None
    return language
