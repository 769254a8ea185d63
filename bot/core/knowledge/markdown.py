"""Markdown and plain text split into sections.

Markdown is split at its ATX headings (``#`` … ``######``), skipping lines inside fenced code;
that and an optional YAML front matter (``title:``, ``url:``) are all the structure a section
needs, so no Markdown parser is used: the text is kept as written, which is also what the model
reads best. Setext headings (a line underlined with ``===``/``---``) count too.

Plain text has no headings: it is one section, or parts of one cut at paragraph breaks; a
short first line followed by a blank line is its title.
"""

from __future__ import annotations

import re

import yaml

from bot.core.knowledge.document import Document, Section, parts, title_from_name

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)


def parse_markdown(text: str, name: str) -> Document:
    """``text`` by heading. The title: front matter's ``title``, else the first level-1
    heading, else the file's ``name``; the lead text before any heading is under the title."""
    meta, text = _front_matter(text)
    headings: list[tuple[int, int, str]] = []  # (line index, level, text)
    lines = text.splitlines()
    fence: str | None = None
    for i, line in enumerate(lines):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            headings.append((i, len(atx.group(1)), atx.group(2).strip()))
        elif _setext_heading(lines, i):
            level = 1 if lines[i + 1].strip().startswith("=") else 2
            headings.append((i, level, line.strip()))
    title = str(meta.get("title") or "").strip()
    if not title:
        first = next((h for h in headings if h[1] == 1), None)
        title = first[2] if first else title_from_name(name)
    url = str(meta.get("url") or "").strip() or None
    return Document(title, tuple(_sections(lines, headings, title)), url)


def parse_text(text: str, name: str) -> Document:
    """One section (or its parts). A short first line standing alone is the title."""
    first, _, rest = text.strip().partition("\n")
    if (
        first.strip()
        and len(first) <= 80
        and not first.rstrip().endswith(".")
        and (not rest.strip() or not rest.split("\n", 1)[0].strip())
    ):
        title, text = first.strip(), rest
    else:
        title = title_from_name(name)
    return Document(title, tuple(parts("", text)))


def _sections(lines: list[str], headings: list[tuple[int, int, str]], title: str) -> list[Section]:
    sections: list[Section] = []
    starts = [h[0] for h in headings] + [len(lines)]
    lead = "\n".join(lines[: starts[0]])
    sections += parts("", lead)
    path: list[tuple[int, str]] = []  # the open headings below the title, outermost first
    for (line, level, text), end in zip(headings, starts[1:], strict=True):
        underline = 1 if line + 1 < len(lines) and _SETEXT.match(lines[line + 1]) else 0
        body = "\n".join(lines[line + 1 + underline : end])
        if level == 1 and text == title:
            path = []
            sections += parts("", body)
            continue
        path = [(lvl, txt) for lvl, txt in path if lvl < level] + [(level, text)]
        sections += parts(" › ".join(txt for _, txt in path), body)
    return sections


def _setext_heading(lines: list[str], i: int) -> bool:
    """A text line with a line of ``=`` or ``-`` under it (not a list item, quote or table)."""
    if i + 1 >= len(lines) or not lines[i].strip() or not _SETEXT.match(lines[i + 1]):
        return False
    return not lines[i].strip().startswith(("-", "*", "+", ">", "|", "#", "`", "~"))


def _front_matter(text: str) -> tuple[dict, str]:
    found = _FRONT_MATTER.match(text)
    if not found:
        return {}, text
    try:
        meta = yaml.safe_load(found.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[found.end() :]
