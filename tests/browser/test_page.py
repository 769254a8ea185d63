"""The sandbox's page in a real browser, with the real bot behind it: what a person sees and
does in the local Slack (mentions, threads, DMs, buttons, slash commands, the assistant).

Set TEAMMATE_SCREENSHOTS=1 to write docs/screenshot-sandbox.png from the first test.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import expect

from bot.testkit.fakes import Hang, Text, ToolCalls, ToolUse
from tests.browser.conftest import ROOT

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

ANSWER = (
    "Rotating the API keys takes two steps:\n\n"
    "1. **Create a new key** in *Settings → API keys* and store it in the vault as "
    "`teammate/api-key`.\n"
    "2. **Roll it out**: restart the workers so they pick it up, then revoke the old key.\n\n"
    "```bash\n"
    "vault kv put secret/teammate api-key=@new-key.txt\n"
    "teammate doctor\n"
    "```\n\n"
    "The old key keeps working until you revoke it, so there is no downtime."
)

# Records the length of the streaming answer's text in the thread pane each time it changes.
WATCH_GROWTH = """() => {
  window.__growth = [];
  const record = () => {
    const el = document.querySelector('#pane .msg.streaming .md');
    if (!el) return;
    const n = el.textContent.length;
    const seen = window.__growth;
    if (!seen.length || seen[seen.length - 1] !== n) seen.push(n);
  };
  new MutationObserver(record).observe(
    document.body, {subtree: true, childList: true, characterData: true});
}"""


async def open_page(page: Page, url: str) -> None:
    await page.goto(url + "/")
    await expect(page.locator("#live")).to_have_text("live")
    await expect(page.locator("#view-header")).to_contain_text("general")


async def send_and_open_answer(page: Page, text: str, question: str) -> Locator:
    """Send ``text`` from the main composer, open its thread, and return the bot's answer."""
    composer = page.locator("#main-composer textarea")
    await composer.fill(text)
    await composer.press("Enter")
    sent = page.locator("#messages .msg", has_text=question)
    await sent.locator(".thread-link").click()
    return page.locator("#pane .msg.from-bot").last


async def test_question_in_a_channel_streams_into_its_thread_and_feedback_is_thanked(
    stack, page: Page, tmp_path: Path
) -> None:
    sandbox = stack.sandbox
    sandbox.post_message("bob", "general", "Morning! 2.4 went out at 9:10, all green :tada:")
    sandbox.post_message(
        "carol", "general", "Nice. Has anyone rotated the API keys since we moved to the vault?"
    )
    stack.model.script(Text(ANSWER, delay=0.05))
    await open_page(page, sandbox.url)

    composer = page.locator("#main-composer textarea")
    await composer.press_sequentially("@Tea")
    teammate = page.locator("#main-composer .completion .option", has_text="Teammate")
    await expect(teammate).to_be_visible()
    await teammate.click()
    await expect(composer).to_have_value("@Teammate ")
    await composer.press_sequentially("how do I rotate the API keys?")
    await page.evaluate(WATCH_GROWTH)
    await composer.press("Enter")

    question = page.locator("#messages .msg", has_text="how do I rotate the API keys?")
    await expect(question.locator(".mention")).to_have_text("@Teammate")
    await expect(composer).to_have_value("")
    sent = sandbox.channel_messages("general")[-1]
    assert sent["text"] == f"<@{sandbox.bot_user_id}> how do I rotate the API keys?"

    await question.locator(".thread-link").click()
    pane = page.locator("#pane")
    await expect(pane.locator(".pane-title")).to_contain_text("Thread")
    await expect(pane.locator(".msg").first).to_contain_text("how do I rotate the API keys?")
    # The answer grows in place while it streams: seen at three or more lengths, rising.
    await page.wait_for_function("() => window.__growth.length >= 3")
    growth = await page.evaluate("window.__growth")
    rises = sum(1 for before, after in zip(growth, growth[1:], strict=False) if after > before)
    assert rises >= 2, growth

    answer = pane.locator(".msg.from-bot:not(.ephemeral)").last
    helpful = answer.get_by_role("button", name="👍 Helpful")
    await expect(helpful).to_be_visible(timeout=20_000)
    await expect(answer).not_to_have_class(re.compile(r"\bstreaming\b"))
    await expect(answer.locator(".md strong").first).to_have_text("Create a new key")
    await expect(answer.locator(".md .code-lang")).to_have_text("bash")
    await expect(answer.locator(".md pre")).to_contain_text("teammate doctor")
    await expect(answer.locator(".bk-context")).to_contain_text("tokens")
    await expect(question.locator(".thread-link")).to_contain_text("1 reply")

    await page.mouse.move(640, 790)
    shot = tmp_path / "screenshot-sandbox.png"
    await page.screenshot(path=str(shot))
    if os.environ.get("TEAMMATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "screenshot-sandbox.png")

    # A click is delivered to the bot as block_actions; the button waits until it is.
    sandbox.pause_delivery()
    await helpful.click()
    await expect(helpful).to_have_class(re.compile(r"\bpending\b"))
    sandbox.resume_delivery()
    thanks = pane.locator(".msg.ephemeral", has_text="Thanks for the feedback!")
    await expect(thanks).to_contain_text("Only visible to you")
    await expect(helpful).not_to_have_class(re.compile(r"\bpending\b"))
    clicks = sandbox.deliveries("action")
    assert [d["label"] for d in clicks] == ["feedback_good"] and clicks[0]["status"] == 200


async def test_direct_message_and_slash_command_help(stack, page: Page) -> None:
    sandbox = stack.sandbox
    stack.model.script(Text("Hello Alice! Happy to help with *anything* you need.", delay=0.01))
    await open_page(page, sandbox.url)

    await page.locator('#sidebar [data-view="dm"]').click()
    await expect(page.locator("#view-header")).to_contain_text("Teammate")
    await expect(page.locator("#tabs .tab.active")).to_have_text("Messages")
    answer = await send_and_open_answer(page, "hi there, can you help me?", "can you help me?")
    await expect(answer.locator(".md")).to_contain_text("Happy to help with anything you need.")
    await expect(answer.locator(".md em")).to_have_text("anything")

    await page.locator('#sidebar [data-view="channel"]', has_text="general").click()
    await expect(page.locator("#pane")).to_be_hidden()
    composer = page.locator("#main-composer textarea")
    await composer.press_sequentially("/")
    options = page.locator("#main-composer .completion .option.command")
    await expect(options).to_have_count(3)  # /ask, /task, /teammate
    await composer.press_sequentially("tea")
    await expect(options).to_have_count(1)
    await expect(options).to_contain_text("/teammate")
    await expect(options).to_contain_text("What Teammate can do")
    await composer.press("Enter")
    await expect(composer).to_have_value("/teammate ")
    await composer.press_sequentially("help")
    await composer.press("Enter")
    help_note = page.locator("#messages .msg.ephemeral", has_text="Mention me")
    await expect(help_note).to_contain_text("Only visible to you")
    await expect(help_note.locator("code").first).to_contain_text("@Teammate")
    assert not any("/teammate" in m["text"] for m in sandbox.channel_messages("general"))

    # Only the person who ran it sees it.
    await page.select_option("#person", "U0BOB")
    await expect(page.locator("#sidebar .side-item .you")).to_have_count(1)
    await expect(page.locator("#messages .msg.ephemeral")).to_have_count(0)


async def test_assistant_panel_offers_prompts_and_shows_the_status(stack, page: Page) -> None:
    sandbox = stack.sandbox
    draft = "Heads up, team: the *new vault* is live. Ask me if anything breaks."
    stack.model.script(Hang(1.0, then=Text(draft, delay=0.01)))
    await open_page(page, sandbox.url)

    await page.locator("#sidebar [data-open-assistant]").click()
    pane = page.locator("#pane")
    await expect(pane.locator(".msg.from-bot").first).to_contain_text("Hi! I'm Teammate")
    chips = page.locator("#prompts .chip")
    await expect(chips.first).to_have_text("Summarize a thread")
    assert "Draft a message" in await chips.all_inner_texts()
    await chips.filter(has_text="Draft a message").click()

    await expect(pane.locator(".msg", has_text="Help me draft a short")).to_be_visible()
    await expect(pane.locator(".assistant-status")).to_contain_text("Teammate is thinking…")
    await expect(page.locator("#prompts")).to_be_hidden()
    title = "Help me draft a short, friendly announcement for my team."
    await expect(pane.locator(".assistant-title")).to_have_text(title)
    answer = pane.locator(".msg.from-bot:not(.ephemeral)").last
    await expect(answer.get_by_role("button", name="👍 Helpful")).to_be_visible(timeout=20_000)
    await expect(answer.locator(".md em")).to_have_text("new vault")
    await expect(pane.locator(".assistant-status")).to_have_count(0)


async def test_app_home_sends_app_home_opened_and_draws_the_published_view(
    stack, page: Page
) -> None:
    sandbox = stack.sandbox
    await open_page(page, sandbox.url)
    await page.locator('#sidebar [data-view="dm"]').click()
    await page.locator("#tabs .tab", has_text="Home").click()
    await expect(page.locator("#home")).to_be_visible()

    def home_opened() -> bool:
        return any(d["label"] == "app_home_opened" for d in sandbox.deliveries("event"))

    await sandbox.wait_for(home_opened)  # the bot was told, as Slack tells it
    # and published its Home tab: how to ask, and the model it answers with
    await expect(page.locator("#home .bk-header")).to_have_text("Teammate")
    await expect(page.locator("#home")).to_contain_text("/ask")
    await expect(page.locator("#home .bk-context strong")).to_have_text("Claude Haiku 4.5")


async def test_tool_steps_show_in_the_thread_with_their_outcome_and_source(stack, page: Page):
    sandbox = stack.sandbox
    sandbox.post_message("bob", "random", "who is up for lunch at noon?")
    stack.model.script(
        ToolCalls([ToolUse("read_channel", {"channel": "C0RANDOM"}, id="toolu_chan")]),
        ToolCalls([ToolUse("read_channel", {"channel": "C0NOWHERE"}, id="toolu_none")]),
        Text("Bob is organising lunch.", delay=0.01),
    )
    await open_page(page, sandbox.url)
    text = "@Teammate what is happening in random?"
    answer = await send_and_open_answer(page, text, "what is happening in random?")
    await expect(answer.locator(".md")).to_contain_text("Bob is organising lunch.")
    read = answer.locator(".chunk.task", has_text="Reading another channel").first
    await expect(read).to_contain_text("✅")
    await expect(read.locator(".task-output")).to_have_text("— 1 message in #random")
    link = read.locator("a.task-source")
    await expect(link).to_have_text("#random")
    assert (await link.get_attribute("href") or "").endswith("/archives/C0RANDOM")
    refused = answer.locator(".chunk.task.error")
    await expect(refused).to_contain_text("⚠️")
    await expect(refused.locator(".task-output")).to_contain_text("cannot see a channel")
