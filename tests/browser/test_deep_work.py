"""Deep work seen in the sandbox's page, with the real bot behind it: an answer drawn from the
team's knowledge shows its sources under it (linked where the document has a link), and a tool
that writes waits for the asker, who clicks Approve in the page; the card then shows who
decided and when, the tool runs once and the answer finishes."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from bot.core.knowledge import KnowledgeStore, add_paths
from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.stack import Stack, bot_settings, running_bot
from tests.browser.test_page import open_page, send_and_open_answer
from tests.e2e.test_approvals import NOTE, Noticeboard, pin_then_answer
from tests.e2e.test_knowledge_answers import ANSWER, DOCUMENTS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from playwright.async_api import Locator, Page

RUNBOOK = "https://wiki.example.com/runbooks/db-failover"


@pytest.fixture
def board() -> Noticeboard:
    return Noticeboard()


@pytest.fixture
async def stack(sandbox, model, tmp_path, board: Noticeboard) -> AsyncIterator[Stack]:
    """The bot with the noticeboard's tools (one of them writes) beside its own."""
    settings = bot_settings(sandbox, model, tmp_path)
    async with running_bot(settings, sandbox, board.tools()) as (runtime, url):
        yield Stack(sandbox, model, runtime, url)


async def finished(answer: Locator) -> None:
    """Wait until the answer is done: its feedback buttons are drawn."""
    await expect(answer.get_by_role("button", name="👍 Helpful")).to_be_visible(timeout=20_000)
    await expect(answer).not_to_have_class(re.compile(r"\bstreaming\b"))


async def test_an_answer_from_the_knowledge_shows_its_sources_under_it(stack, page: Page):
    await add_paths(KnowledgeStore(stack.runtime.db), [DOCUMENTS])
    stack.model.script(
        ToolCalls([ToolUse("search_knowledge", {"query": "promote replica"})]), Text(ANSWER)
    )
    await open_page(page, stack.sandbox.url)
    question = "the primary database is down, how do I promote the replica?"
    answer = await send_and_open_answer(page, f"@Teammate {question}", question)
    await finished(answer)
    text = answer.locator(".md")
    await expect(text).to_contain_text("from the bastion host, then restart the API pods.")
    await expect(text.locator("code")).to_have_text("pgctl promote replica-1")

    step = answer.locator(".chunk.task", has_text="Searching the team's knowledge")
    await expect(step).to_contain_text("✅")
    await expect(step).to_contain_text("“promote replica”")
    await expect(step.locator(".task-output")).to_have_text("— 3 sections found")

    sources = answer.locator(".bk-context", has_text="Sources:")
    await expect(sources).to_have_count(1)
    cited = sources.get_by_role("link", name="Database failover runbook › Promoting the replica")
    await expect(cited).to_have_attribute("href", RUNBOOK)
    # A shipped document has no link: it is named, as plain text.
    await expect(sources).to_contain_text("Settings for admins › Database and data")
    unlinked = sources.get_by_role("link", name=re.compile("Settings for admins"))
    await expect(unlinked).to_have_count(0)
    # Under the answer's text, above its footer.
    text_box, sources_box = await text.bounding_box(), await sources.bounding_box()
    footer_box = await answer.locator(".bk-context", has_text="tokens").bounding_box()
    assert text_box and sources_box and footer_box
    assert text_box["y"] + text_box["height"] <= sources_box["y"] < footer_box["y"]


async def test_an_approval_is_clicked_in_the_page(stack, page: Page, board) -> None:
    sandbox = stack.sandbox
    pin_then_answer(stack.model)
    await open_page(page, sandbox.url)
    question = "pin a note: deploy freeze from 5pm"
    await send_and_open_answer(page, f"@Teammate {question}", question)
    pane = page.locator("#pane")
    paused = pane.locator(".msg.from-bot").first
    card = pane.locator(".msg.from-bot", has=page.get_by_role("button", name="Approve"))
    await expect(card).to_contain_text("@Alice, may I run post_note?")
    await expect(card).to_contain_text("It changes something (a write tool).")
    await expect(card).to_contain_text("text: Deploy freeze from 5pm")
    await expect(card).to_contain_text("Only @Alice or a workspace admin can decide.")
    await expect(card.locator("button")).to_have_text(
        ["Approve", "Deny", "Always allow this tool in this channel"]
    )
    await expect(paused.locator(".md")).to_contain_text("I'll pin that note.")
    waiting = paused.locator(".chunk.task", has_text="Waiting for approval to run post_note")
    await expect(waiting).to_be_visible()
    assert board.posted == []  # nothing runs before the click

    await card.get_by_role("button", name="Approve").click()
    decided = pane.locator(".msg.from-bot", has_text="Approved by @Alice")
    await expect(decided).to_be_visible()
    await expect(decided.locator("button")).to_have_count(0)  # the buttons are gone
    await expect(decided).to_contain_text("post_note — it changes something")
    (decision,) = await stack.runtime.services.approvals.approvals.store.decisions()
    # When, as Slack's client draws <!date^…>: in the viewer's time, the full date on hover.
    line = decided.locator(".bk-context")
    shown = re.compile(r"^✅ Approved by @Alice Today at \d{1,2}:\d\d [AP]M$")
    await expect(line).to_have_text(shown)
    at = decision.decided_at
    assert at is not None
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))
    await expect(line.locator("time")).to_have_attribute("title", fallback)

    answer = pane.locator(".msg.from-bot:not(.ephemeral)").last
    await finished(answer)
    await expect(answer.locator(".md")).to_have_text("Done: the note is pinned.")
    assert board.posted == [NOTE["text"]] and len(stack.model.requests) == 2
    clicks = sandbox.deliveries("action")
    assert [(c["label"], c["status"]) for c in clicks] == [("approval_approve", 200)]
