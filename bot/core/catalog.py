"""The model catalog: which models exist, what they cost and how they think.

Loaded from ``seeds/models.yml``. A conversation names its model by alias (``fast``), by catalog
key (``claude-sonnet-4-6``) or as ``provider:model``; :meth:`Catalog.resolve` turns any of those
into a :class:`ModelSpec`, so nothing else needs to know the forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import yaml

from bot.resources import SEEDS_DIR

Provider = Literal["anthropic", "openai", "local"]
ThinkingStyle = Literal["none", "budget", "adaptive", "always", "effort"]

PROVIDERS: tuple[str, ...] = get_args(Provider)
THINKING_STYLES: tuple[str, ...] = get_args(ThinkingStyle)

DEFAULT_CATALOG_PATH = SEEDS_DIR / "models.yml"

# What a model we know nothing about gets: small enough to fit any modern server.
ADHOC_CONTEXT_WINDOW = 32_768
ADHOC_MAX_OUTPUT = 4_096
ADHOC_ANTHROPIC_CONTEXT_WINDOW = 200_000
ADHOC_ANTHROPIC_MAX_OUTPUT = 16_000


class CatalogError(ValueError):
    """The catalog file is malformed, or a model reference names nothing."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model as the agent uses it.

    ``price_in``/``price_out`` are USD per million tokens (None: unknown, no cost shown).
    ``max_output`` is the output budget of one answer, thinking included. ``note`` is said
    under every answer of this model (the embedded model's limits, for example).

    Request settings: ``temperature`` and ``top_p`` (None: the provider's default; never set
    for Anthropic, whose SDK and newer models take no sampling settings), ``stop`` (sequences
    that end the answer) and ``prompt`` (the system prompt file in ``seeds/prompts``).

    Capabilities: ``tools`` (it can call tools), ``thinking`` (its style), ``native_memory``
    (Anthropic's memory tool, ``memory_20250818``) and ``web_tools`` (Anthropic's web search and
    fetch server tools) and ``context_editing`` (Anthropic clears old tool results on the
    server, ``clear_tool_uses_20250919``, so a long run stays inside the window). A model the
    catalog does not list gets none of the last three.
    ``examples`` are question-and-answer pairs sent before the conversation as earlier turns of
    the chat: a tiny model follows a shown answer better than a described one.
    """

    key: str
    provider: Provider
    model: str
    label: str
    context_window: int
    max_output: int
    price_in: float | None = None
    price_out: float | None = None
    thinking: ThinkingStyle = "none"
    thinking_budget: int = 8_000
    tools: bool = True
    adhoc: bool = False
    note: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    prompt: str = "system.md"
    native_memory: bool = False
    web_tools: bool = False
    context_editing: bool = False
    examples: tuple[tuple[str, str], ...] = ()

    @property
    def ref(self) -> str:
        """The ``provider:model`` form, unambiguous across catalogs."""
        return f"{self.provider}:{self.model}"

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float | None:
        """What a request cost, from the catalog prices; None when a price is unknown."""
        if self.price_in is None or self.price_out is None:
            return None
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1_000_000


@dataclass(frozen=True, slots=True)
class Catalog:
    """The models and aliases from ``models.yml``."""

    models: Mapping[str, ModelSpec]
    aliases: Mapping[str, str]

    @classmethod
    def load(cls, path: Path | str | None = None) -> Catalog:
        """Read a catalog file (default: the seeds shipped with the product)."""
        file = Path(path) if path is not None else DEFAULT_CATALOG_PATH
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CatalogError(
                f"cannot read the model catalog {file.name}: {exc.strerror}"
            ) from exc
        except yaml.YAMLError as exc:
            raise CatalogError(f"the model catalog {file.name} is not valid YAML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> Catalog:
        """Build a catalog from parsed YAML, checking every field."""
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise CatalogError("the model catalog needs a `models:` mapping")
        models = {key: _parse_model(str(key), entry) for key, entry in data["models"].items()}
        raw_aliases = data.get("aliases") or {}
        if not isinstance(raw_aliases, dict):
            raise CatalogError("`aliases:` in the model catalog must be a mapping")
        aliases = {str(name): str(target) for name, target in raw_aliases.items()}
        catalog = cls(models=models, aliases=aliases)
        for name, target in aliases.items():
            if name in models:
                raise CatalogError(f"alias `{name}` has the same name as a model")
            try:
                catalog.resolve(target)
            except CatalogError as exc:
                raise CatalogError(f"alias `{name}` points at nothing: {exc}") from exc
        return catalog

    def resolve(self, ref: str) -> ModelSpec:
        """The model ``ref`` names: an alias, a catalog key, or ``provider:model``.

        A ``provider:model`` the catalog lists returns that entry; one it does not gets an ad-hoc
        spec with conservative defaults: a 32k window and no per-token price for
        OpenAI-compatible servers (usually self-hosted), a 200k window and an unknown price for
        Claude models the catalog does not list yet.
        """
        name = ref.strip()
        if name in self.aliases:
            name = self.aliases[name].strip()
        if name in self.models:
            return self.models[name]
        provider, sep, model = name.partition(":")
        if sep and provider in PROVIDERS and model:
            for spec in self.models.values():
                if spec.provider == provider and spec.model == model:
                    return spec
            return _adhoc(cast(Provider, provider), model)
        raise CatalogError(
            f"unknown model `{ref}`: use an alias ({', '.join(sorted(self.aliases)) or 'none'}), "
            f"a catalog key ({', '.join(sorted(self.models))}), "
            "or provider:model with provider anthropic, openai or local "
            "(e.g. anthropic:claude-sonnet-4-6, openai:qwen3-8b)"
        )

    def labels(self) -> dict[str, str]:
        """Catalog key → label, for pickers in the admin UI."""
        return {key: spec.label for key, spec in self.models.items()}


def _adhoc(provider: Provider, model: str) -> ModelSpec:
    if provider == "anthropic":
        return ModelSpec(
            key=f"{provider}:{model}",
            provider=provider,
            model=model,
            label=model,
            context_window=ADHOC_ANTHROPIC_CONTEXT_WINDOW,
            max_output=ADHOC_ANTHROPIC_MAX_OUTPUT,
            thinking="none",
            adhoc=True,
        )
    return ModelSpec(
        key=f"{provider}:{model}",
        provider=provider,
        model=model,
        label=model,
        context_window=ADHOC_CONTEXT_WINDOW,
        max_output=ADHOC_MAX_OUTPUT,
        price_in=0.0,
        price_out=0.0,
        thinking="effort" if provider == "openai" else "none",
        tools=provider == "openai",
        adhoc=True,
    )


def _parse_model(key: str, entry: Any) -> ModelSpec:
    if not isinstance(entry, dict):
        raise CatalogError(f"model `{key}` must be a mapping of fields")

    def field(name: str, kind: type, default: Any = ...) -> Any:
        if name not in entry or entry[name] is None:
            if default is ...:
                raise CatalogError(f"model `{key}` is missing `{name}`")
            return default
        value = entry[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CatalogError(f"model `{key}`: `{name}` must be {kind.__name__}, not {value!r}")
        return value

    provider = field("provider", str)
    if provider not in PROVIDERS:
        raise CatalogError(f"model `{key}`: provider must be one of {', '.join(PROVIDERS)}")
    thinking = field("thinking", str, "none")
    if thinking not in THINKING_STYLES:
        raise CatalogError(f"model `{key}`: thinking must be one of {', '.join(THINKING_STYLES)}")
    spec = ModelSpec(
        key=key,
        provider=cast(Provider, provider),
        model=field("model", str),
        label=field("label", str, key),
        context_window=field("context_window", int),
        max_output=field("max_output", int),
        price_in=field("price_in", float, None),
        price_out=field("price_out", float, None),
        thinking=cast(ThinkingStyle, thinking),
        thinking_budget=field("thinking_budget", int, 8_000),
        tools=field("tools", bool, True),
        note=field("note", str, None),
        temperature=field("temperature", float, None),
        top_p=field("top_p", float, None),
        stop=tuple(_strings(key, "stop", entry.get("stop"))),
        prompt=field("prompt", str, "system.md"),
        native_memory=field("native_memory", bool, False),
        web_tools=field("web_tools", bool, False),
        context_editing=field("context_editing", bool, False),
        examples=_examples(key, entry.get("examples")),
    )
    for capability in ("native_memory", "web_tools", "context_editing"):
        if getattr(spec, capability) and spec.provider != "anthropic":
            raise CatalogError(
                f"model `{key}`: `{capability}` is an Anthropic server capability; "
                f"set it only on provider anthropic models"
            )
        if getattr(spec, capability) and not spec.tools:
            raise CatalogError(f"model `{key}`: `{capability}` needs `tools: true`")
    if spec.provider == "anthropic" and (spec.temperature is not None or spec.top_p is not None):
        raise CatalogError(
            f"model `{key}`: Anthropic models take no temperature or top_p (the SDK has no "
            "such argument and newer Claude models reject them); remove them"
        )
    if spec.temperature is not None and not 0.0 <= spec.temperature <= 2.0:
        raise CatalogError(f"model `{key}`: temperature must be between 0 and 2")
    if spec.top_p is not None and not 0.0 < spec.top_p <= 1.0:
        raise CatalogError(f"model `{key}`: top_p must be above 0 and at most 1")
    if spec.max_output >= spec.context_window:
        raise CatalogError(f"model `{key}`: max_output must be below context_window")
    _check_thinking(spec)
    return spec


def _check_thinking(spec: ModelSpec) -> None:
    """The thinking style must be one the provider takes, and a thinking budget must leave
    room for the answer: Anthropic rejects a request whose max_tokens is not above it."""
    anthropic_styles = ("budget", "adaptive", "always")
    if spec.provider == "anthropic" and spec.thinking == "effort":
        raise CatalogError(
            f"model `{spec.key}`: thinking `effort` is for OpenAI-compatible models; "
            "use budget, adaptive or always for Claude"
        )
    if spec.provider != "anthropic" and spec.thinking in anthropic_styles:
        raise CatalogError(
            f"model `{spec.key}`: thinking `{spec.thinking}` is for Claude models; "
            "use effort (or none) for an OpenAI-compatible model"
        )
    if spec.thinking == "budget" and not 1024 <= spec.thinking_budget < spec.max_output:
        raise CatalogError(
            f"model `{spec.key}`: thinking_budget ({spec.thinking_budget}) must be at least "
            f"1024 and below max_output ({spec.max_output}), or Anthropic rejects every deep "
            "answer; raise max_output or lower thinking_budget"
        )


def _strings(key: str, name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise CatalogError(f"model `{key}`: `{name}` must be a list of non-empty strings")
    return value


def _examples(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for pair in value if isinstance(value, list) else ([] if value is None else [value]):
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(text, str) and text for text in pair)
        ):
            raise CatalogError(
                f"model `{key}`: `examples` must be a list of [question, answer] pairs of text"
            )
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


__all__ = ["Catalog", "CatalogError", "ModelSpec", "Provider", "ThinkingStyle"]
