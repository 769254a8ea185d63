"""How the page draws what the bot and people send: mrkdwn, Markdown and Block Kit, with every
piece of message text escaped (no bot is needed: the test posts as the bot itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import expect
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox

if TYPE_CHECKING:
    from playwright.async_api import Page

HOSTILE = '<img src=x onerror="window.__owned=1"><script>window.__owned=1</script>'

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Release checklist :rocket:"}},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*bold* _italic_ ~gone~ `code` <https://example.com/notes|the notes> "
            "<@U0BOB> <#C0RANDOM|random>\n> quoted line\n• first\n• second\n```two\nlines```",
        },
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open"},
            "action_id": "open_notes",
        },
    },
    {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Owner*\nAlice"},
            {"type": "plain_text", "text": HOSTILE},
        ],
    },
    {"type": "divider"},
    {
        "type": "markdown",
        "text": "## Steps\n1. **Build**\n2. Ship with [docs](https://example.com)",
    },
    {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Shipped ", "style": {"bold": True}},
                    {"type": "emoji", "name": "tada"},
                    {"type": "user", "user_id": "U0CAROL"},
                    {"type": "link", "url": "javascript:alert(1)", "text": "not a link"},
                ],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "two"}]},
                ],
            },
            {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": HOSTILE}]},
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "wise words"}]},
        ],
    },
    {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "Weekly chart"},
    {"type": "video", "title": {"type": "plain_text", "text": "demo"}},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Claude Haiku 4.5 · 10 tokens"}]},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Approve"},
                "style": "primary",
                "action_id": "approve",
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Deny"},
                "style": "danger",
                "action_id": "deny",
            },
            {"type": "static_select", "action_id": "pick"},
        ],
    },
]


async def test_blocks_mrkdwn_and_markdown_are_drawn_and_text_is_escaped(
    sandbox: Sandbox, page: Page
) -> None:
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    await client.chat_postMessage(channel="C0GENERAL", text="fallback only", blocks=BLOCKS)
    await client.chat_postMessage(channel="C0GENERAL", text=f"plain *mrkdwn* {HOSTILE}")
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#live")).to_have_text("live")

    rich = page.locator("#messages .msg", has_text="Release checklist")
    await expect(rich.locator(".bk-header")).to_have_text("Release checklist 🚀")
    section = rich.locator(".bk-section").first
    await expect(section.locator("strong").first).to_have_text("bold")
    await expect(section.locator("em")).to_have_text("italic")
    await expect(section.locator("del")).to_have_text("gone")
    await expect(section.locator("a")).to_have_attribute("href", "https://example.com/notes")
    await expect(section.locator(".mention").first).to_have_text("@Bob")
    await expect(section.locator(".channel-ref")).to_have_text("#random")
    await expect(section.locator("blockquote")).to_have_text("quoted line")
    await expect(section.locator("li")).to_have_text(["first", "second"])
    await expect(section.locator("pre")).to_have_text("two\nlines")
    await expect(section.locator(".bk-accessory button")).to_have_text("Open")
    await expect(rich.locator(".bk-fields > div").nth(1)).to_have_text(HOSTILE)
    await expect(rich.locator(".bk-divider")).to_have_count(1)
    await expect(rich.locator(".bk-markdown h2")).to_have_text("Steps")
    await expect(rich.locator(".bk-markdown ol li")).to_have_text(["Build", "Ship with docs"])
    await expect(rich.locator(".bk-rich .mention")).to_have_text("@Carol")
    await expect(rich.locator(".bk-rich strong")).to_have_text("Shipped")
    await expect(rich.locator(".bk-rich a")).to_have_count(0)  # javascript: is not a link
    await expect(rich.locator(".bk-rich ol li")).to_have_text(["one", "two"])
    await expect(rich.locator(".bk-rich pre")).to_have_text(HOSTILE)
    await expect(rich.locator(".bk-rich blockquote")).to_have_text("wise words")
    await expect(rich.locator(".bk-image")).to_contain_text("Weekly chart")
    await expect(rich.locator(".bk-unknown")).to_have_text(["Unsupported block: video"])
    await expect(rich.locator('select.bk-select[data-action-id="pick"]')).to_have_count(1)
    await expect(rich.locator(".bk-button.primary")).to_have_text("Approve")
    await expect(rich.locator(".bk-button.danger")).to_have_text("Deny")
    await expect(rich.locator(".bk-context")).to_contain_text("10 tokens")
    await expect(rich).not_to_contain_text("fallback only")  # blocks replace the text

    plain = page.locator("#messages .msg", has_text="plain")
    await expect(plain.locator("strong")).to_have_text("mrkdwn")
    await expect(plain).to_contain_text("onerror")

    # Nothing from message text became markup or ran.
    assert await page.locator("#messages img, #messages script").count() == 0
    assert await page.evaluate("window.__owned") is None

    # What a person types is shown as typed (escaped for Slack on the way out).
    composer = page.locator("#main-composer textarea")
    await composer.fill("compare a<b & c>d, *really*")
    await composer.press("Enter")
    mine = page.locator("#messages .msg", has_text="compare")
    await expect(mine.locator(".msg-content")).to_have_text("compare a<b & c>d, really")
    await expect(mine.locator("strong")).to_have_text("really")
    sent = sandbox.channel_messages("general")[-1]["text"]
    assert sent == "compare a&lt;b &amp; c&gt;d, *really*"
