"""Fixtures for tests that drive the sandbox's page in a real browser (Chromium, headless).

The bot, the fake model and the sandbox are the end-to-end ones, the sandbox reading
Teammate's manifest as `teammate dev` does (so the page can complete its slash commands).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

from bot.sandbox import Sandbox
from tests.e2e.conftest import MANIFEST, bot_options, model, stack  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TEAMMATE_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = Sandbox(
        retry_schedule=(0.0, 0.5, 1.0),
        ack_timeout=3.0,
        manifest=MANIFEST,
    )
    async with box:
        yield box


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh Chromium page at 1280×800 (`make test` installs Chromium where it is missing)."""
    if not HAVE_CHROMIUM:
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` or apt-get install chromium")
    async with async_playwright() as driver:
        context = await driver.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.set_default_timeout(15_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
            assert errors == [], f"the page raised: {errors}"
        finally:
            await context.close()
