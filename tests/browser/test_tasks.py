"""A task seen in the sandbox's page: `/task` typed in the composer posts a card that ticks its
checklist and ends done; its thread shows the plan as Slack's plan display and the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.async_api import expect

from tests.browser.test_page import open_page
from tests.e2e.test_tasks import STEPS, THREE_STEPS

if TYPE_CHECKING:
    from playwright.async_api import Page


async def test_a_task_card_ticks_and_its_thread_shows_the_plan(stack, page: Page) -> None:
    stack.model.script(*THREE_STEPS)
    await open_page(page, stack.sandbox.url)
    composer = page.locator("#main-composer textarea")
    await composer.fill("/task summarise this week's incidents")
    await composer.press("Enter")
    card = page.locator("#messages .msg.from-bot", has_text="summarise this week's incidents")
    await expect(card).to_contain_text("▶️ Read the incidents", timeout=10_000)
    await expect(card).to_contain_text("✅ Done", timeout=20_000)
    for step in STEPS:
        await expect(card).to_contain_text(f"✅ {step}")
    await expect(card).to_contain_text("3/3 steps")
    await card.locator(".thread-link").click()
    plan = page.locator("#pane .chunks.plan-mode")
    await expect(plan).to_contain_text(STEPS[-1])
    await expect(page.locator("#pane")).to_contain_text("is done.")
