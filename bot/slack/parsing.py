"""Reading what a person asked for: the question itself and whether to think harder."""

from __future__ import annotations

import re

_DEEP_FLAG = re.compile(r"(^|\s)--deep(\s|$)")
_DEEP_PHRASE = re.compile(r"\b(think (hard|harder|deeply|carefully)|ultrathink)\b", re.IGNORECASE)


def parse_question(text: str) -> tuple[str, bool]:
    """(question without flags, deep?) — `--deep` or "think hard" in the text ask for deep mode."""
    deep = bool(_DEEP_FLAG.search(text) or _DEEP_PHRASE.search(text))
    return _DEEP_FLAG.sub(" ", text).strip(), deep
