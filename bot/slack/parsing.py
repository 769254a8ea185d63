"""Reading what a person asked for: the question itself and whether to think harder."""

from __future__ import annotations

import re

_DEEP_FLAG = re.compile(r"(^|\s)--deep(\s|$)")
_NO_DEEP_FLAG = re.compile(r"(^|\s)--no-deep(\s|$)")
_DEEP_PHRASE = re.compile(r"\b(think (hard|harder|deeply|carefully)|ultrathink)\b", re.IGNORECASE)


def parse_question(text: str) -> tuple[str, bool]:
    """(question without flags, deep?) — `--deep` or "think hard" in the text ask for deep mode."""
    return _without_flags(text), parse_deep(text) is True


def parse_deep(text: str) -> bool | None:
    """True: `--deep` or "think hard" asks for deep mode; False: `--no-deep` declines it for
    this question even where the channel's default is on (it wins over the others); None: the
    channel's default decides."""
    if _NO_DEEP_FLAG.search(text):
        return False
    if _DEEP_FLAG.search(text) or _DEEP_PHRASE.search(text):
        return True
    return None


def _without_flags(text: str) -> str:
    return _NO_DEEP_FLAG.sub(" ", _DEEP_FLAG.sub(" ", text)).strip()
