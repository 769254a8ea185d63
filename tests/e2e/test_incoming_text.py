"""What a person types reaches the model as they wrote it, not in Slack's wire format."""

from __future__ import annotations

from bot.testkit.fakes import Text, last_user_text


def user_id(sandbox, name: str) -> str:
    return next(u["id"] for u in sandbox.users() if u["name"] == name)


async def test_code_symbols_mentions_and_links_reach_the_model_as_written(stack) -> None:
    box = stack.sandbox
    design = box.add_channel("design")["id"]
    bob = user_id(box, "bob")
    # The text as Slack delivers it: &, < and > escaped, mentions and links as tokens.
    sent = (
        f"<@{box.bot_user_id}> what does &lt;script&gt; do, and is `a &amp;&amp; b` safe? "
        f"<@{bob}> asked in <#{design}> and <#{design}|design>, "
        "see <https://example.com/guide?a=1&amp;b=2|the guide> or <https://example.com/faq>"
    )
    written = (
        "what does <script> do, and is `a && b` safe? "
        "@Bob asked in #design and #design, "
        "see [the guide](https://example.com/guide?a=1&b=2) or https://example.com/faq"
    )
    stack.model.script(Text("It runs code."))
    posted = box.post_message("alice", "general", sent)
    await stack.answer("general", posted["ts"])
    question = last_user_text(stack.model.requests[-1].json)
    assert question.endswith(written), question
    assert "&amp;" not in question and "&lt;" not in question and "<@" not in question


async def test_a_slash_command_question_is_read_the_same_way(stack) -> None:
    stack.model.script(Text("Yes."))
    result = await stack.sandbox.run_command(
        "alice", "general", "/ask", "is 1 &lt; 2 &amp;&amp; 3 &gt; 2?"
    )
    assert result["status"] == 200
    await stack.model.wait_for_requests(1)
    question = last_user_text(stack.model.requests[-1].json)
    assert question.endswith("is 1 < 2 && 3 > 2?"), question
