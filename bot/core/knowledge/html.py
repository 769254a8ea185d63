"""HTML pages split into sections at their headings.

The standard library's ``html.parser`` is enough here and no third-party parser is used: only
the stream of tags and text matters (headings start sections; block tags end lines; script,
style and page chrome are skipped), never a tree or CSS selectors, and it is the tolerant
tokenizer CPython maintains, which reads broken markup without raising. Character references
are decoded by it (``convert_charrefs``).

The title is the page's ``<title>`` (else its first ``<h1>``); the link is its canonical URL
(``<link rel="canonical">`` or ``og:url``), and a heading's ``id`` becomes the section's anchor.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.core.knowledge.document import Document, Section, parts, title_from_name

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SKIPPED = {"script", "style", "template", "noscript", "svg", "nav", "header", "footer", "head"}
_BLOCKS = {
    "p", "div", "li", "ul", "ol", "br", "tr", "table", "pre", "section", "article", "main",
    "blockquote", "dd", "dt", "dl", "hr", "figure", "figcaption", "details", "summary",
}  # fmt: skip
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "source", "area", "base", "col"}


def parse_html(text: str, name: str) -> Document:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.document(name)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_title = ""
        self.url: str | None = None
        self._in_title = False
        self._skipping: list[str] = []
        self._heading: tuple[int, str] | None = None  # level and id of the open heading
        self._heading_text: list[str] = []
        self._text: list[str] = []
        self._pre = 0
        self._found: list[tuple[int, str, str, str]] = []  # level, heading, anchor, body
        self._open = (0, "", "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "link" and "canonical" in values.get("rel", "").split():
            self.url = self.url or values.get("href") or None
        elif tag == "meta" and values.get("property") == "og:url" and values.get("content"):
            self.url = self.url or values["content"]
        if tag == "title":
            self._in_title = True
            return
        if self._skipping or tag in _SKIPPED:
            if tag not in _VOID:
                self._skipping.append(tag)
            return
        if tag in _HEADINGS:
            self._end_section()
            self._heading = (_HEADINGS[tag], values.get("id", ""))
            self._heading_text = []
        elif tag == "pre":
            self._pre += 1
            self._text.append("\n\n")
        elif tag in _BLOCKS:
            self._text.append("\n\n" if tag in ("p", "table", "blockquote") else "\n")
            if tag == "li":
                self._text.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag in _HEADINGS and self._heading is not None:
            level, anchor = self._heading
            self._open = (level, _squash("".join(self._heading_text)), anchor)
            self._heading = None
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._text.append("\n\n")
        elif tag in _BLOCKS and tag != "li":
            self._text.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        elif self._skipping:
            return
        elif self._heading is not None:
            self._heading_text.append(data)
        else:
            self._text.append(data if self._pre else re.sub(r"\s+", " ", data))

    def _end_section(self) -> None:
        level, heading, anchor = self._open
        body = _lines("".join(self._text))
        self._found.append((level, heading, anchor, body))
        self._text = []

    def document(self, name: str) -> Document:
        self._end_section()
        title = _squash(self.page_title)
        first_h1 = next((h for level, h, _, _ in self._found if level == 1 and h), "")
        title = title or first_h1 or title_from_name(name)
        sections: list[Section] = []
        path: list[tuple[int, str]] = []
        for level, heading, anchor, body in self._found:
            if level == 0 or (level == 1 and heading in (title, first_h1)):
                path = []
                sections += parts("", body, anchor)
                continue
            path = [(lvl, text) for lvl, text in path if lvl < level] + [(level, heading)]
            sections += parts(" › ".join(text for _, text in path), body, anchor)
        return Document(title, tuple(sections), self.url)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _lines(text: str) -> str:
    """Block breaks kept (at most one blank line), spaces at line ends dropped."""
    lines = [line.strip() if line.strip() else "" for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
