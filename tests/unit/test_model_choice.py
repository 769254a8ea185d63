"""The one rule that picks the model when TEAMMATE_MODEL is not set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.model_choice import choose_model, with_chosen_model
from bot.settings import Settings
from bot.testkit.fakes import FakeOpenAI


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_no_key_means_the_embedded_model() -> None:
    choice = await choose_model(make())
    assert choice.ref == "local" and choice.embedded and choice.reason == "no API key is set"


async def test_an_anthropic_key_means_claude() -> None:
    both = make(anthropic_api_key="k", openai_base_url="http://127.0.0.1:9/v1")
    assert (await choose_model(both)).ref == "fast"


async def test_an_openai_url_means_its_first_served_model() -> None:
    async with FakeOpenAI(models=("qwen3-8b", "other")) as engine:
        choice = await choose_model(make(openai_base_url=engine.v1_url))
    assert choice.ref == "openai:qwen3-8b" and choice.reason == "OPENAI_BASE_URL is set"


async def test_teammate_model_always_wins_and_the_choice_sticks() -> None:
    settings, choice = await with_chosen_model(make(model="deep", anthropic_api_key="k"))
    assert choice.ref == "deep" and choice.reason == "TEAMMATE_MODEL is set"
    chosen, again = await with_chosen_model(make().model_copy(update={"model": "local"}))
    assert chosen.model == "local" and again.reason == "TEAMMATE_MODEL is set"


async def test_a_model_from_the_config_file_is_said_to_come_from_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    file = tmp_path / "team.yml"
    file.write_text("model: deep\n", "utf-8")
    monkeypatch.setenv("TEAMMATE_CONFIG", str(file))
    monkeypatch.delenv("TEAMMATE_MODEL", raising=False)
    choice = await choose_model(make())
    assert choice.ref == "deep" and choice.reason == f"model is set in {file}"
    monkeypatch.setenv("TEAMMATE_MODEL", "fast")
    assert (await choose_model(make())).reason == "TEAMMATE_MODEL is set"
