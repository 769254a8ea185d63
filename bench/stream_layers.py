"""CPU per streamed answer, layer by layer: where the floor under the bot's figure is.

The fake Anthropic server runs in a process of its own; this process drains N streams of
2,000 text events at once through one layer after another, from the bare HTTP body up to the
core's ``AgentService.stream``, and reads its own CPU time (``time.process_time``) around each.
The bot's transport reads a streamed body at a pace and merges the deltas that arrived together
(:mod:`bot.core.http_transport`), so what the layers above it cost depends on how fast the
tokens come: the default is a model's 50 a second, one event per token on the wire.
The layers are measured in rounds, one after another within a round, so a busy machine slows
them alike; the table gives the median over the rounds. It says what each layer adds per
answer, and so what no change in the bot can take away (the SDK parsing one server-sent event
per token, pydantic-ai's own stream plumbing).

    python -m bench.stream_layers                           # about thirteen minutes
    python -m bench.stream_layers --token-delay 0.005 --rounds 2   # tokens four times as fast
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import httpx2
from anthropic import AsyncAnthropic
from pydantic_ai import Agent
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from bench.procs import Child, answer_until_stopped
from bench.report import Result, Row, to_text
from bench.stream_calls import answer_text
from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.config import CoreConfig
from bot.core.conversation import Conversation, Scope, Turn
from bot.core.http_transport import AiohttpTransport
from bot.core.prompts import Prompts
from bot.testkit.fakes import Text

TOKENS = 2000
TOKEN_DELAY = 0.02  # 50 tokens a second, as the concurrent-answers benchmark streams them
MODEL = "claude-haiku-4-5"
KEY = "bench"


def server_main(conn: Connection, token_delay: float) -> None:
    asyncio.run(_server(conn, token_delay))


async def _server(conn: Connection, token_delay: float) -> None:
    from bot.testkit.fakes import FakeAnthropic

    async with FakeAnthropic(default=Text(answer_text(TOKENS), delay=token_delay)) as model:
        conn.send({"url": model.base_url})

        async def nothing(_: Any) -> dict[str, Any]:
            return {}

        await answer_until_stopped(conn, nothing)
    conn.send(None)


Layer = Callable[[], Awaitable[None]]


def layers(url: str) -> tuple[dict[str, Layer], Callable[[], Awaitable[None]]]:
    """Each layer as a function that drains one answer; and what closes their clients."""
    body = {"model": MODEL, "max_tokens": 4096, "stream": True}
    body["messages"] = [{"role": "user", "content": "how do deploys work?"}]
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    plain = httpx2.AsyncClient(timeout=60)
    aio = httpx2.AsyncClient(timeout=60, transport=AiohttpTransport())
    sdks = {
        name: AsyncAnthropic(api_key=KEY, base_url=url, max_retries=0, http_client=client)
        for name, client in (("httpx2", plain), ("aiohttp", aio))
    }
    model = AnthropicModel(MODEL, provider=AnthropicProvider(anthropic_client=sdks["aiohttp"]))
    agent = Agent(model, output_type=str)
    config = CoreConfig(anthropic_api_key=KEY, anthropic_base_url=url, model=MODEL)
    service = AgentService(config, Catalog.load(), Prompts.load())
    scope = Scope("T1", "C1", "channel", "1.0", "U1")

    async def body_aiohttp() -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/v1/messages", json=body, headers=headers) as r,
        ):
            async for _ in r.content.iter_any():
                pass

    def body_through(client: httpx2.AsyncClient) -> Layer:
        async def drain() -> None:
            async with client.stream("POST", f"{url}/v1/messages", json=body, headers=headers) as r:
                async for _ in r.aiter_bytes():
                    pass

        return drain

    def sdk_through(sdk: AsyncAnthropic) -> Layer:
        async def drain() -> None:
            stream = await sdk.messages.create(
                model=MODEL, max_tokens=4096, messages=body["messages"], stream=True
            )
            async for _ in stream:
                pass

        return drain

    async def model_stream() -> None:
        request = [ModelRequest.user_text_prompt("how do deploys work?")]
        async with model_request_stream(model, request) as stream:
            async for _ in stream:
                pass

    async def agent_iter() -> None:
        async with agent.iter("how do deploys work?") as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as stream:
                        async for _ in stream:
                            pass

    async def run_stream_events() -> None:
        async with agent.run_stream_events("how do deploys work?") as events:
            async for _ in events:
                pass

    async def agent_service() -> None:
        turns = [Turn("user", "how do deploys work?", "alice")]
        async for _ in service.stream(Conversation(turns, scope=scope)):
            pass

    async def close() -> None:
        await plain.aclose()
        await aio.aclose()
        await service.aclose()

    found: dict[str, Layer] = {
        "HTTP body, aiohttp alone, read as it comes": body_aiohttp,
        "HTTP body, httpx2's own transport": body_through(plain),
        "HTTP body, the bot's transport (paced, deltas merged)": body_through(aio),
        "Anthropic SDK events, httpx2's transport": sdk_through(sdks["httpx2"]),
        "Anthropic SDK events, the bot's transport": sdk_through(sdks["aiohttp"]),
        "pydantic-ai model stream (direct)": model_stream,
        "pydantic-ai agent.iter + node.stream": agent_iter,
        "pydantic-ai run_stream_events": run_stream_events,
        "AgentService.stream (the core)": agent_service,
    }
    return found, close


async def measure(streams: int, rounds: int, token_delay: float) -> dict[str, list[float]]:
    server = Child(server_main, token_delay, name="model")
    url = (await server.start())["url"].rstrip("/")
    figures: dict[str, list[float]] = {}
    try:
        found, close = layers(url)
        try:
            for drain in found.values():
                await drain()  # connections, imports and caches warm before counting
            for _ in range(rounds):
                for name, drain in found.items():
                    cpu = time.process_time()
                    await asyncio.gather(*(drain() for _ in range(streams)))
                    figures.setdefault(name, []).append((time.process_time() - cpu) / streams)
        finally:
            await close()
    finally:
        await server.stop()
    return figures


def result_from(
    figures: dict[str, list[float]], streams: int, rounds: int, token_delay: float = TOKEN_DELAY
) -> Result:
    rows = []
    for name, values in figures.items():
        cpu = statistics.median(values)
        spread = f"{min(values):.3f}–{max(values):.3f}"
        rows.append(Row(name, f"{cpu:.3f} CPU-s per answer (rounds {spread})"))
    method = (
        f"{streams} answers of {TOKENS:,} text events streamed at once from the fake Anthropic "
        f"server (its own process, one event each {token_delay * 1000:g} ms) and drained through "
        "each layer in turn; CPU from time.process_time in the draining process, the median of "
        f"{rounds} rounds. Each row includes the rows above it that it is built on."
    )
    return Result("CPU per answer, layer by layer", method, rows)


async def run(streams: int = 10, rounds: int = 1, token_delay: float = TOKEN_DELAY) -> Result:
    started = time.monotonic()
    figures = await measure(streams, rounds, token_delay)
    result = result_from(figures, streams, rounds, token_delay)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=10, help="answers at once")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over all the layers")
    parser.add_argument(
        "--token-delay", type=float, default=TOKEN_DELAY, help="seconds between the model's events"
    )
    args = parser.parse_args()
    print(to_text(asyncio.run(run(args.streams, args.rounds, args.token_delay))))


if __name__ == "__main__":
    main()
