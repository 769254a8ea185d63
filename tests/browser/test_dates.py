"""Slack's date sequences (`<!date^seconds^format^link|fallback>` in mrkdwn, and the rich text
`date` element) drawn as Slack's client draws them: in the viewer's time zone, "today" and
"yesterday" where the token is a pretty one, the fallback on hover or when a token is unknown.
Nothing but the sandbox and the page: the test posts as the bot itself."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from playwright.async_api import expect
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox

if TYPE_CHECKING:
    from playwright.async_api import Page

POSTED = 1392734382  # 2014-02-18 14:39:42 UTC


def clock(at: datetime, seconds: bool = False) -> str:
    """Time as the page shows it in English: 2:39 PM, or 2:39:42 PM."""
    hour = at.hour % 12 or 12
    secs = f":{at.second:02d}" if seconds else ""
    return f"{hour}:{at.minute:02d}{secs} {'AM' if at.hour < 12 else 'PM'}"


async def test_date_sequences_are_drawn_in_the_viewers_time(sandbox: Sandbox, page: Page) -> None:
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#live")).to_have_text("live")
    zone = ZoneInfo(await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    posted = datetime.fromtimestamp(POSTED, zone)
    yesterday = int((datetime.now(zone).replace(hour=12) - timedelta(days=1)).timestamp())
    lines = [
        f"<!date^{POSTED}^{{date_num}} {{time_secs}}|Posted 2014-02-18 6:39:42 AM PST>",
        f"<!date^{POSTED}^{{date_long}}|Feb 18>",
        f"<!date^{POSTED}^{{date_short}} at {{time}}^https://example.com/log|Feb 18>",
        f"<!date^{yesterday}^{{date_short_pretty}} at noon|a day ago>",
        f"<!date^{int(time.time()) - 160}^posted {{ago}}|recently>",
        f"<!date^{POSTED}^{{no_such_token}}|the fallback>",
    ]
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    await client.chat_postMessage(channel="C0GENERAL", text="\n".join(lines))
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Due "},
                    {"type": "date", "timestamp": POSTED, "format": "{date}", "fallback": "soon"},
                ],
            }
        ],
    }
    await client.chat_postMessage(channel="C0GENERAL", text="due", blocks=[rich])

    message = page.locator("#messages .msg", has_text="the fallback")
    dates = message.locator("time")
    await expect(dates).to_have_text(
        [
            f"{posted:%Y-%m-%d} {clock(posted, seconds=True)}",
            f"{posted:%A}, February {posted.day}th, 2014",
            f"Feb {posted.day}, 2014 at {clock(posted)}",
            "Yesterday at noon",
            "posted 3 minutes ago",
        ]
    )
    await expect(dates.first).to_have_attribute("title", "Posted 2014-02-18 6:39:42 AM PST")
    await expect(dates.first).to_have_attribute("datetime", "2014-02-18T14:39:42.000Z")
    linked = message.get_by_role("link", name=f"Feb {posted.day}, 2014 at {clock(posted)}")
    await expect(linked).to_have_attribute("href", "https://example.com/log")
    await expect(message).to_contain_text("the fallback")  # an unknown token
    await expect(message).not_to_contain_text("no_such_token")
    due = page.locator("#messages .msg", has_text="Due")
    await expect(due.locator(".bk-rich time")).to_have_text(f"February {posted.day}th, 2014")
