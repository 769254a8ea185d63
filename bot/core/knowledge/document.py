"""A document as the knowledge base keeps it: a title, maybe a link, and sections by heading.

Sections are what a search finds and an answer cites, so each is one heading's text; a very
long one is cut into parts at paragraph breaks (:func:`parts`) so a hit points near its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SECTION_CHARS = 1_800
"""The longest section kept whole (about a screen of text)."""


@dataclass(frozen=True, slots=True)
class Section:
    """One heading's text. ``heading`` is the path below the document's title ("Setup ›
    Tokens"), empty for the text under the title itself; ``anchor`` the heading's id in the
    page, when it has one (for a link)."""

    heading: str
    body: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    url: str | None = None


def title_from_name(name: str) -> str:
    """A title for a file that names none: ``deploy-guide.md`` → ``Deploy guide``."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else name


def parts(heading: str, body: str, anchor: str = "") -> list[Section]:
    """``body`` under ``heading`` as sections of at most about :data:`SECTION_CHARS`, cut at
    paragraph breaks (a single huge paragraph at a line or word break); none when empty."""
    body = body.strip()
    if not body:
        return []
    pieces: list[str] = []
    current = ""
    for paragraph in _paragraphs(body):
        if current and len(current) + len(paragraph) + 2 > SECTION_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return [Section(heading, piece, anchor) for piece in pieces]


def _paragraphs(body: str) -> list[str]:
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        while len(paragraph) > SECTION_CHARS:
            cut = paragraph.rfind("\n", 0, SECTION_CHARS)
            if cut < SECTION_CHARS // 2:
                cut = paragraph.rfind(" ", 0, SECTION_CHARS)
            if cut < SECTION_CHARS // 2:
                cut = SECTION_CHARS
            out.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if paragraph:
            out.append(paragraph)
    return out
