"""Which model answers when TEAMMATE_MODEL is not set: one rule for every command.

Claude when ANTHROPIC_API_KEY is set, the OpenAI-compatible engine (its first served model)
when OPENAI_BASE_URL is set, and otherwise the embedded model, so Teammate answers with no key
and no network. TEAMMATE_MODEL, when set, always wins.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import httpx2

from bot.app import load_catalog
from bot.core.catalog import CatalogError
from bot.core.local_model import INSTALL_HINT, model_path, server_available
from bot.settings import Settings, SettingsProblem, config_file_setting


@dataclass(frozen=True)
class ModelChoice:
    ref: str
    reason: str

    @property
    def embedded(self) -> bool:
        return self.ref == "local"


async def choose_model(settings: Settings) -> ModelChoice:
    """The model reference ``settings`` lead to, and how it was chosen."""
    if "model" in settings.model_fields_set:
        source = config_file_setting("model")
        reason = f"model is set in {source}" if source else "TEAMMATE_MODEL is set"
        return ModelChoice(settings.model, reason)
    if settings.anthropic_api_key:
        return ModelChoice("fast", "ANTHROPIC_API_KEY is set")
    if settings.openai_base_url:
        served = await _first_served_model(settings)
        return ModelChoice(f"openai:{served}", "OPENAI_BASE_URL is set")
    return ModelChoice("local", "no API key is set")


async def with_chosen_model(settings: Settings) -> tuple[Settings, ModelChoice]:
    """``settings`` with the chosen model filled in (marked as set), and the choice."""
    choice = await choose_model(settings)
    chosen = settings.model_copy(update={"model": choice.ref})
    return chosen, choice


def require_startable(settings: Settings, choice: ModelChoice) -> None:
    """Fail at start, in one line, when the chosen model is not in the catalog or is the
    embedded one and it is not installed (rather than a traceback, or a failure per answer)."""
    try:
        spec = load_catalog(settings).resolve(choice.ref)
    except CatalogError as exc:
        raise SettingsProblem(f"TEAMMATE_MODEL is not valid: {exc}") from None
    if spec.provider == "local" and not settings.local_model_url:
        if not server_available():
            raise SettingsProblem(
                f"the embedded model answers ({choice.reason}) but llama-cpp-python is not "
                f"installed: {INSTALL_HINT}; or set ANTHROPIC_API_KEY or OPENAI_BASE_URL"
            )
        model_path()


async def _first_served_model(settings: Settings) -> str:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
    url = settings.openai_base_url.rstrip("/") + "/models"  # type: ignore[union-attr]
    with contextlib.suppress(Exception):
        async with httpx2.AsyncClient(timeout=5) as client:
            listed = (await client.get(url, headers={"Authorization": f"Bearer {key}"})).json()
            return str(listed["data"][0]["id"])
    return "default"
