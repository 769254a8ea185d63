"""Settings reach the core by name, and an optional YAML file sits beside the environment."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from bot.app import core_config
from bot.core.config import CoreConfig
from bot.settings import Settings, SettingsProblem, load_settings


def test_every_core_field_with_a_setting_reaches_the_core(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0123456789")
    monkeypatch.setenv("TEAMMATE_RETRY_ATTEMPTS", "7")
    monkeypatch.setenv("TEAMMATE_STREAM_IDLE_TIMEOUT", "12.5")
    monkeypatch.setenv("TEAMMATE_REQUEST_TIMEOUT", "90")
    settings = load_settings(_env_file=None)
    config = core_config(settings, local_model_url="http://127.0.0.1:9999/v1")
    assert config.anthropic_api_key == "sk-ant-from-env-0123456789"  # unwrapped
    assert (config.retry_attempts, config.stream_idle_timeout) == (7, 12.5)
    assert config.request_timeout == 90
    assert config.local_model_url == "http://127.0.0.1:9999/v1"
    shared = [f.name for f in fields(CoreConfig) if f.name in Settings.model_fields]
    assert len(shared) == len(fields(CoreConfig))  # nothing the core takes is unsettable
    for name in shared:
        if name != "local_model_url":
            value = getattr(settings, name)
            value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            assert getattr(config, name) == value, name


def test_a_config_file_is_read_and_the_environment_wins(monkeypatch, tmp_path: Path) -> None:
    file = tmp_path / "team.yml"
    file.write_text("model: deep\nretry_attempts: 3\nTEAMMATE_FALLBACK_MODEL: fast\n", "utf-8")
    monkeypatch.setenv("TEAMMATE_CONFIG", str(file))
    monkeypatch.setenv("TEAMMATE_RETRY_ATTEMPTS", "5")
    settings = load_settings(_env_file=None)
    assert settings.model == "deep" and settings.fallback_model == "fast"
    assert settings.retry_attempts == 5
    assert settings.config_file == file


def test_teammate_yml_in_the_working_directory_is_read(monkeypatch, tmp_path: Path) -> None:
    (tmp_path / "teammate.yml").write_text("max_answers: 12\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TEAMMATE_CONFIG", raising=False)
    assert load_settings(_env_file=None).max_answers == 12


def test_a_missing_or_broken_config_file_is_one_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TEAMMATE_CONFIG", str(tmp_path / "nope.yml"))
    with pytest.raises(SettingsProblem) as problem:
        load_settings(_env_file=None)
    assert str(problem.value).startswith("TEAMMATE_CONFIG names") and "\n" not in str(problem.value)
    broken = tmp_path / "broken.yml"
    broken.write_text("model: [deep\n", "utf-8")
    monkeypatch.setenv("TEAMMATE_CONFIG", str(broken))
    with pytest.raises(SettingsProblem, match="not valid YAML"):
        load_settings(_env_file=None)
