"""Slack's message format read back into what the person typed."""

from __future__ import annotations

import pytest

from bot.slack.message_format import Mention, decode, mentions, unescape, without_leading_mention

NAMES = {"U0ALICE": "Alice", "U0BOB": "Bob"}
CHANNELS = {"C0GENERAL": "#general"}


def read(text: str) -> str:
    return decode(text, NAMES.__getitem__, CHANNELS.__getitem__)


@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("what does &lt;script&gt; do?", "what does <script> do?"),
        ("a &amp;&amp; b", "a && b"),
        ("the entity &amp;lt; itself", "the entity &lt; itself"),
        ("ask <@U0ALICE> and <@U0BOB|bob>", "ask @Alice and @Bob"),
        ("in <#C0GENERAL|general>", "in #general"),
        ("in <#C0GENERAL>", "in #general"),
        ("in <#C0GENERAL|>", "in #general"),
        ("<!here> and <!channel> and <!everyone>", "@here and @channel and @everyone"),
        ("<!subteam^S0OPS|@ops> please", "@ops please"),
        ("<!date^1392734382^{date_short}|Feb 18, 2014> ok", "Feb 18, 2014 ok"),
        (
            "see <https://example.com/a?x=1&amp;y=2|the docs>",
            "see [the docs](https://example.com/a?x=1&y=2)",
        ),
        ("see <https://example.com/page>", "see https://example.com/page"),
        ("see <http://example.com|example.com>", "see example.com"),
        ("mail <mailto:a@example.com|a@example.com>", "mail a@example.com"),
        ("mail <mailto:a@example.com|Alice>", "mail [Alice](mailto:a@example.com)"),
        ("x &lt;@U0ALICE&gt; y", "x <@U0ALICE> y"),  # typed literally, not a mention
        ("5 &gt; 3 &lt; 4", "5 > 3 < 4"),
    ],
)
def test_slack_text_reads_as_the_person_wrote_it(sent: str, written: str) -> None:
    assert read(sent) == written


def test_mentions_lists_people_and_channels_to_look_up() -> None:
    text = "<@U0ALICE> <#C0GENERAL|general> <https://x.example> <!here> &lt;@U0NOT&gt;"
    assert mentions(text) == {Mention("user", "U0ALICE"), Mention("channel", "C0GENERAL")}


def test_unescape_is_one_pass() -> None:
    assert unescape("&amp;amp; &amp;gt;") == "&amp; &gt;"


def test_a_leading_mention_of_teammate_is_dropped() -> None:
    assert without_leading_mention(" <@U0BOT>, what is up?", "U0BOT") == "what is up?"
    assert without_leading_mention("hi <@U0BOT>", "U0BOT") == "hi <@U0BOT>"
