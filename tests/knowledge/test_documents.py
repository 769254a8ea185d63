"""Documents split into sections by heading: Markdown (front matter, fenced code, setext
headings), HTML (title, canonical link, heading ids, page chrome and scripts left out) and
plain text (a title line, long text cut at paragraph breaks)."""

from __future__ import annotations

from bot.core.knowledge.document import SECTION_CHARS, Section
from bot.core.knowledge.html import parse_html
from bot.core.knowledge.markdown import parse_markdown, parse_text

MARKDOWN = """---
title: Deploy guide
url: https://docs.example.com/deploy
---
Read this first.

# Deploy guide

Deploys run from main.

## Rolling back
Press the button.

```sh
# not a heading
deployctl undo
```

### From the command line
Run deployctl.

Canaries
--------
Five percent first.
"""


def test_markdown_sections_follow_the_headings() -> None:
    doc = parse_markdown(MARKDOWN, "deploy.md")
    assert (doc.title, doc.url) == ("Deploy guide", "https://docs.example.com/deploy")
    assert [s.heading for s in doc.sections] == [
        "",
        "",
        "Rolling back",
        "Rolling back › From the command line",
        "Canaries",
    ]
    assert (
        "# not a heading" in doc.sections[2].body and doc.sections[4].body == "Five percent first."
    )


def test_markdown_without_a_title_is_named_after_its_file() -> None:
    doc = parse_markdown("## Setup\nInstall it.", "team-onboarding_notes.md")
    assert doc.title == "Team onboarding notes"
    assert doc.sections == (Section("Setup", "Install it."),)


def test_html_sections_skip_scripts_and_chrome() -> None:
    page = """<html><head><title>Handbook</title>
    <meta property="og:url" content="https://wiki.example.com/handbook">
    <script>var secret = 1;</script></head><body><nav>Home · Search</nav>
    <h1>Handbook</h1><p>Welcome &amp; hello.</p>
    <h2 id="leave">Leave</h2><p>Ask your manager.</p><ul><li>Sick days</li><li>Holidays</li></ul>
    <h3>Parental</h3><p>Sixteen weeks.</p><footer>© Example</footer></body></html>"""
    doc = parse_html(page, "handbook.html")
    assert (doc.title, doc.url) == ("Handbook", "https://wiki.example.com/handbook")
    assert doc.sections == (
        Section("", "Welcome & hello."),
        Section("Leave", "Ask your manager.\n\n- Sick days\n- Holidays", "leave"),
        Section("Leave › Parental", "Sixteen weeks."),
    )
    assert "secret" not in str(doc) and "Search" not in str(doc) and "©" not in str(doc)


def test_plain_text_takes_its_first_line_as_title_and_cuts_long_text() -> None:
    paragraph = "word " * 100
    doc = parse_text("Expense policy\n\n" + "\n\n".join([paragraph] * 10), "x.txt")
    assert doc.title == "Expense policy" and len(doc.sections) > 1
    assert all(len(s.body) <= SECTION_CHARS for s in doc.sections)
    assert parse_text("Just one sentence.", "notes.txt").title == "Notes"
