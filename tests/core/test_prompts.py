"""The system prompt: filled in per conversation, and says what the model must know."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.core.conversation import Conversation, Turn
from bot.core.prompts import PromptError, Prompts
from tests.core.helpers import scope


def test_system_prompt_is_filled_in(prompts: Prompts) -> None:
    conversation = Conversation(
        turns=[Turn("user", "hi", "Dana")], scope=scope("Acme", "deploys", "Dana")
    )
    text = prompts.system(conversation, today=date(2026, 11, 3))
    assert "Teammate" in text and "Slack" in text
    assert "Acme" in text and "#deploys" in text and "Dana" in text
    assert "3 November 2026" in text
    assert "${" not in text


def test_system_prompt_states_the_rules(prompts: Prompts) -> None:
    text = prompts.system(Conversation(turns=[])).lower()
    assert "display name" in text  # lines are prefixed with the speaker
    assert "markdown" in text
    assert "concise" in text
    assert "never invent facts" in text


def test_a_direct_message_reads_as_one(prompts: Prompts) -> None:
    text = prompts.system(Conversation(turns=[], scope=scope("Acme")))
    assert "a direct message" in text


def test_a_missing_prompt_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="system.md"):
        Prompts.load(tmp_path)


def test_templates_can_come_from_another_folder(tmp_path: Path) -> None:
    (tmp_path / "system.md").write_text("You help ${user} in ${channel}.", encoding="utf-8")
    prompts = Prompts.load(tmp_path)
    assert prompts.system(
        Conversation(turns=[], scope=scope(channel_name="ops", user_name="Ana"))
    ) == ("You help Ana in #ops.")


def test_a_catalog_entry_can_name_its_own_prompt(prompts: Prompts) -> None:
    conversation = Conversation(turns=[], scope=scope("Acme", "ops", "Ana"))
    embedded = prompts.system(conversation, name="embedded.md")
    assert embedded != prompts.system(conversation)
    assert "Teammate" in embedded and "concise" in embedded.lower()
    assert "${" not in embedded


def test_an_unknown_prompt_name_falls_back_to_the_default(prompts: Prompts, caplog) -> None:
    conversation = Conversation(turns=[])
    assert prompts.system(conversation, name="missing.md") == prompts.system(conversation)
    assert "missing.md" in caplog.text


def test_every_template_in_the_folder_is_loaded(tmp_path: Path) -> None:
    (tmp_path / "system.md").write_text("Long rules for ${user}.", encoding="utf-8")
    (tmp_path / "tiny.md").write_text("Short rules.", encoding="utf-8")
    prompts = Prompts.load(tmp_path)
    assert set(prompts.templates) == {"system.md", "tiny.md"}
    assert prompts.system(Conversation(turns=[]), name="tiny.md") == "Short rules."


def test_an_empty_prompt_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "system.md").write_text("Rules.", encoding="utf-8")
    (tmp_path / "tiny.md").write_text("  \n", encoding="utf-8")
    with pytest.raises(PromptError, match="tiny.md is empty"):
        Prompts.load(tmp_path)
