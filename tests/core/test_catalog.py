"""The model catalog: the shipped entries, reference forms, and file checks."""

from __future__ import annotations

import pytest

from bot.core.catalog import ADHOC_CONTEXT_WINDOW, Catalog, CatalogError

CLAUDE_MODELS = [
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-opus-4-7",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
]


def test_the_shipped_catalog_has_every_current_claude_model_and_the_local_one(
    catalog: Catalog,
) -> None:
    for key in CLAUDE_MODELS:
        spec = catalog.resolve(key)
        assert spec.provider == "anthropic"
        assert spec.model == key
        assert spec.label.startswith("Claude ")
        assert spec.max_output < spec.context_window
        assert spec.price_in and spec.price_out
    local = catalog.resolve("local")
    assert local.provider == "local"
    assert (local.price_in, local.price_out) == (0.0, 0.0)
    assert local.tools is False


def test_thinking_style_follows_the_model_generation(catalog: Catalog) -> None:
    assert catalog.resolve("claude-haiku-4-5").thinking == "budget"
    assert catalog.resolve("claude-sonnet-4-6").thinking == "adaptive"
    assert catalog.resolve("claude-opus-4-7").thinking == "adaptive"
    assert catalog.resolve("claude-opus-5-5").thinking == "always"
    assert catalog.resolve("local").thinking == "none"


def test_each_entry_says_what_it_can_do_and_the_embedded_model_can_do_none_of_it(
    catalog: Catalog,
) -> None:
    for key in CLAUDE_MODELS:
        spec = catalog.resolve(key)
        assert (spec.tools, spec.native_memory, spec.web_tools) == (True, True, True), key
    local = catalog.resolve("local")
    assert (local.tools, local.native_memory, local.web_tools) == (False, False, False)
    unlisted = catalog.resolve("anthropic:claude-next")
    assert unlisted.tools and not unlisted.native_memory and not unlisted.web_tools
    assert not catalog.resolve("openai:qwen3-8b").web_tools


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"provider": "openai", "web_tools": True}, "`web_tools` is an Anthropic server"),
        ({"provider": "local", "native_memory": True}, "`native_memory` is an Anthropic"),
        ({"provider": "anthropic", "tools": False, "web_tools": True}, "needs `tools: true`"),
        ({"provider": "openai", "context_editing": True}, "`context_editing` is an Anthropic"),
        ({"provider": "anthropic", "tools": False, "context_editing": True}, "needs `tools: t"),
    ],
)
def test_server_capabilities_are_for_claude_models_that_call_tools(fields, words) -> None:
    entry = {"model": "m", "context_window": 8192, "max_output": 1024, **fields}
    with pytest.raises(CatalogError, match=words):
        Catalog.from_dict({"models": {"m": entry}})


def test_aliases_resolve_to_catalog_entries(catalog: Catalog) -> None:
    assert catalog.resolve("fast").key == "claude-haiku-4-5"
    assert catalog.resolve("deep").key == "claude-opus-5-5"


def test_provider_model_form_finds_the_catalog_entry(catalog: Catalog) -> None:
    assert catalog.resolve("anthropic:claude-sonnet-4-6") is catalog.resolve("claude-sonnet-4-6")


def test_unknown_openai_model_gets_an_adhoc_spec_with_sane_defaults(catalog: Catalog) -> None:
    spec = catalog.resolve("openai:qwen3-8b")
    assert spec.adhoc
    assert (spec.provider, spec.model, spec.key) == ("openai", "qwen3-8b", "openai:qwen3-8b")
    assert spec.context_window == ADHOC_CONTEXT_WINDOW
    assert spec.cost_usd(1000, 1000) == 0.0


def test_unknown_reference_names_the_valid_forms(catalog: Catalog) -> None:
    with pytest.raises(CatalogError) as info:
        catalog.resolve("gpt-9")
    message = str(info.value)
    assert "gpt-9" in message
    assert "fast" in message and "claude-sonnet-4-6" in message and "provider:model" in message


def test_cost_comes_from_the_catalog_prices(catalog: Catalog) -> None:
    sonnet = catalog.resolve("claude-sonnet-4-6")
    assert sonnet.cost_usd(1_000_000, 100_000) == pytest.approx(3.0 + 1.5)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"provider": "bedrock", "model": "m", "context_window": 10, "max_output": 1}, "provider"),
        ({"provider": "openai", "model": "m", "context_window": 10}, "max_output"),
        ({"provider": "openai", "model": "m", "context_window": 10, "max_output": 20}, "below"),
        (
            {
                "provider": "openai",
                "model": "m",
                "context_window": 10,
                "max_output": 1,
                "thinking": "sometimes",
            },
            "thinking",
        ),
        ({"provider": "openai", "model": "m", "context_window": "big", "max_output": 1}, "int"),
    ],
)
def test_malformed_entries_are_rejected_with_the_field_named(entry: dict, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem):
        Catalog.from_dict({"models": {"m": entry}})


def test_the_embedded_model_is_tuned_for_a_tiny_model(catalog: Catalog, prompts) -> None:
    local = catalog.resolve("local")
    assert local.temperature == 0.0  # greedy: its default sampling answered "2 + 3 = 5"
    assert local.max_output <= 512  # short answers
    assert local.prompt != "system.md" and local.prompt in prompts.templates
    assert len(prompts.templates[local.prompt]) < len(prompts.templates["system.md"]) / 2


def test_every_prompt_the_catalog_names_ships(catalog: Catalog, prompts) -> None:
    for spec in catalog.models.values():
        assert spec.prompt in prompts.templates, spec.key


def test_claude_entries_carry_no_sampling_settings(catalog: Catalog) -> None:
    for spec in catalog.models.values():
        if spec.provider == "anthropic":
            assert (spec.temperature, spec.top_p) == (None, None), spec.key


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"temperature": 0.5}, "Anthropic models take no temperature"),
        ({"top_p": 0.9}, "Anthropic models take no temperature"),
    ],
)
def test_sampling_for_an_anthropic_entry_is_rejected(extra: dict, problem: str) -> None:
    entry = {"provider": "anthropic", "model": "m", "context_window": 10, "max_output": 1}
    with pytest.raises(CatalogError, match=problem):
        Catalog.from_dict({"models": {"m": entry | extra}})


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"temperature": 3}, "temperature must be between"),
        ({"top_p": 0}, "top_p must be above"),
        ({"stop": "END"}, "list of non-empty strings"),
        ({"stop": [""]}, "list of non-empty strings"),
        ({"prompt": 7}, "prompt"),
        ({"examples": "Q: hi A: hello"}, "examples"),
        ({"examples": [["only a question"]]}, "examples"),
        ({"examples": [["a question", ""]]}, "examples"),
    ],
)
def test_malformed_request_settings_are_rejected(extra: dict, problem: str) -> None:
    entry = {"provider": "openai", "model": "m", "context_window": 10, "max_output": 1}
    with pytest.raises(CatalogError, match=problem):
        Catalog.from_dict({"models": {"m": entry | extra}})


def test_an_alias_to_nothing_is_rejected() -> None:
    entry = {"provider": "openai", "model": "m", "context_window": 10, "max_output": 1}
    with pytest.raises(CatalogError, match="alias `fast`"):
        Catalog.from_dict({"models": {"m": entry}, "aliases": {"fast": "missing"}})


CLAUDE = {"provider": "anthropic", "model": "claude-x", "context_window": 200000}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        # max_tokens must stay above budget_tokens, or every deep answer is a 400.
        ({**CLAUDE, "max_output": 8000, "thinking": "budget", "thinking_budget": 8000}, "below"),
        ({**CLAUDE, "max_output": 4000, "thinking": "budget"}, "below max_output"),
        ({**CLAUDE, "max_output": 16000, "thinking": "budget", "thinking_budget": 512}, "1024"),
        ({**CLAUDE, "max_output": 16000, "thinking": "effort"}, "OpenAI-compatible"),
        (
            {
                "provider": "openai",
                "model": "q",
                "context_window": 32768,
                "max_output": 2048,
                "thinking": "adaptive",
            },
            "for Claude models",
        ),
    ],
)
def test_thinking_the_provider_would_reject_fails_at_load_in_one_line(
    entry: dict, problem: str
) -> None:
    with pytest.raises(CatalogError, match=problem) as info:
        Catalog.from_dict({"models": {"m": entry}})
    assert "\n" not in str(info.value) and "`m`" in str(info.value)


def test_a_budget_below_max_output_loads() -> None:
    entry = {**CLAUDE, "max_output": 16000, "thinking": "budget", "thinking_budget": 15999}
    assert Catalog.from_dict({"models": {"m": entry}}).resolve("m").thinking_budget == 15999
