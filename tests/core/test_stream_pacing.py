"""A streamed answer read at a pace over real HTTP: the same text in fewer, larger deltas."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.agent import AgentService
from bot.core.events import Done, TextDelta
from bot.testkit.fakes import FakeAnthropic, FakeOpenAI, Text
from bot.testkit.fakes.script import split_pieces
from tests.core.helpers import ask, collect, terminal, text_of

MakeService = Callable[..., AgentService]
ANSWER = " ".join(f"word{n}" for n in range(80)) + "."
PIECE_DELAY = 0.02  # 50 tokens a second, as a model streams


async def test_a_claude_answer_streamed_token_by_token_arrives_whole_in_fewer_deltas(
    make_service: MakeService, anthropic_fake: FakeAnthropic
) -> None:
    anthropic_fake.script(Text(ANSWER, delay=PIECE_DELAY))
    service = make_service(anthropic_base_url=anthropic_fake.base_url)
    events = await collect(service, ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == ANSWER
    deltas = sum(isinstance(e, TextDelta) for e in events)
    assert deltas < len(split_pieces(ANSWER)) / 2


async def test_an_openai_compatible_answer_is_merged_the_same_way(
    make_service: MakeService, openai_fake: FakeOpenAI
) -> None:
    openai_fake.script(Text(ANSWER, delay=PIECE_DELAY))
    service = make_service(openai_base_url=openai_fake.v1_url, model="openai:qwen3-8b")
    events = await collect(service, ask())
    assert isinstance(terminal(events), Done)
    assert text_of(events) == ANSWER
    deltas = sum(isinstance(e, TextDelta) for e in events)
    assert deltas < len(split_pieces(ANSWER)) / 2
