"""Modals, menus and App Home buttons in the sandbox's page, with a Bolt app of its own behind
it (the poll app in tests/sandbox/poll_app.py): a person runs /poll, fills in the modal the app
opens and submits it, picks an answer in the message the app posts, and clicks a button in
the app's Home tab."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import expect

from bot.sandbox import Sandbox
from tests.sandbox.poll_app import COLOURS, MANIFEST, TEAMS, PollApp, serving_over_http

if TYPE_CHECKING:
    from playwright.async_api import Page


@pytest.fixture
async def poll() -> AsyncIterator[tuple[Sandbox, PollApp]]:
    async with Sandbox(retry_schedule=(0, 0.5, 1), manifest=MANIFEST) as sandbox:
        bot = PollApp(sandbox)
        async with serving_over_http(sandbox, bot.app):
            yield sandbox, bot


async def test_a_modal_is_filled_in_and_submitted_in_the_page(poll, page: Page) -> None:
    sandbox, bot = poll
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#live")).to_have_text("live")
    await expect(page.locator("#sidebar")).to_contain_text("Pollster")

    composer = page.locator("#main-composer textarea")
    await composer.fill("/poll What colour")
    await composer.press("Enter")
    modal = page.locator("#modal .modal")
    await expect(modal.locator(".modal-title")).to_have_text("New poll")
    question = modal.locator('[data-input-block="question"] input')
    await expect(question).to_have_value("What colour")

    # Submitting without a question mark: the app answers with an error for that field.
    await modal.locator('[data-input-block="kind"] select').select_option("colours")
    await modal.locator("[data-modal-submit]").click()
    await expect(modal.locator('[data-input-block="question"] .bk-error')).to_have_text(
        "Ask a question"
    )
    await expect(modal.locator('[data-input-block="kind"] select')).to_have_value("colours")

    await question.fill("What colour for the logo?")
    team = modal.locator('[data-input-block="team"] select')
    await team.focus()  # an external select asks the app for its options
    await expect(team.locator("option", has_text="Platform")).to_have_count(1)
    await team.select_option("platform")
    await modal.locator("[data-modal-submit]").click()
    await expect(page.locator("#modal")).to_be_hidden()
    posted = page.locator("#messages .msg", has_text="What colour for the logo?")
    await expect(posted).to_be_visible()
    values = bot.seen["submission"][-1]["view"]["state"]["values"]
    assert values["question"]["text"]["value"] == "What colour for the logo?"
    assert values["kind"]["pick"]["selected_option"]["value"] == "colours"
    assert values["team"]["find"]["selected_option"] == TEAMS[1]

    # A choice in the message's select menu arrives as selected_option.
    await posted.locator('select[data-action-id="vote"]').select_option("green")
    await sandbox.wait_for(lambda: bot.seen.get("vote"))
    assert bot.seen["vote"][0]["actions"][0]["selected_option"] == COLOURS[1]

    # Cancel closes the modal and the app hears view_closed.
    await composer.fill("/poll Again?")
    await composer.press("Enter")
    await expect(modal).to_be_visible()
    await modal.locator("[data-modal-close]").click()
    await expect(page.locator("#modal")).to_be_hidden()
    await sandbox.wait_for(lambda: bot.seen.get("closed"))


async def test_a_button_in_the_home_tab_reaches_the_app(poll, page: Page) -> None:
    sandbox, bot = poll
    home = {
        "type": "home",
        "blocks": [
            {
                "type": "actions",
                "block_id": "ballot",
                "elements": [{"type": "static_select", "action_id": "vote", "options": COLOURS}],
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "refresh",
                        "value": "now",
                        "text": {"type": "plain_text", "text": "Refresh"},
                    }
                ],
            },
        ],
    }
    await bot.client.views_publish(user_id="U0ALICE", view=home)
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#live")).to_have_text("live")
    await page.locator('#sidebar [data-view="dm"]').click()
    await page.locator('#tabs [data-tab="home"]').click()
    await page.locator('#home select[data-action-id="vote"]').select_option("red")
    await sandbox.wait_for(lambda: bot.seen.get("vote"))
    (body,) = bot.seen["vote"]
    assert body["container"]["type"] == "view" and body["view"]["type"] == "home"
    assert body["actions"][0]["selected_option"] == COLOURS[0]

    await page.locator("#home button", has_text="Refresh").click()
    await sandbox.wait_for(lambda: bot.seen.get("refresh"))
    (clicked,) = bot.seen["refresh"]
    assert clicked["actions"][0]["value"] == "now"
    assert clicked["view"]["state"]["values"]["ballot"]["vote"]["selected_option"] == COLOURS[0]
