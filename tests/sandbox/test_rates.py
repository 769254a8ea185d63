"""Rate tiers: sliding windows per method, chat.postMessage per channel, 429 + Retry-After."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from bot.sandbox.rates import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tier_window_slides_and_scale_shrinks_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert all(limiter.check("chat.update") is None for _ in range(50))
    assert limiter.check("chat.update") == 60
    clock.now += 30
    assert limiter.check("chat.update") == 30
    clock.now += 30.5
    assert limiter.check("chat.update") is None
    assert all(limiter.check("chat.appendStream") is None for _ in range(100))
    assert limiter.check("chat.appendStream") is not None

    fast = RateLimiter(clock=clock, scale=0.1)
    assert all(fast.check("conversations.list") is None for _ in range(20))
    assert fast.check("conversations.list") == 6
    clock.now += 6.01
    assert fast.check("conversations.list") is None


def test_post_message_is_per_channel_with_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, post_burst=3)
    assert [limiter.check("chat.postMessage", "C1") for _ in range(3)] == [None] * 3
    assert limiter.check("chat.postMessage", "C1") == 1
    assert limiter.check("chat.postMessage", "C2") is None
    clock.now += 1.0
    assert limiter.check("chat.postMessage", "C1") is None
    assert limiter.check("chat.postMessage", "C1") == 1


def test_disabled_limiter_allows_everything() -> None:
    limiter = RateLimiter(enabled=False)
    assert all(limiter.check("users.list") is None for _ in range(100))


async def test_over_the_tier_answers_429_with_retry_after() -> None:
    async with Sandbox(rate_limits=True) as sandbox:
        client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
        posted = await client.chat_postMessage(channel="C0GENERAL", text="0")
        for n in range(50):
            await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text=str(n))
        with pytest.raises(SlackApiError) as caught:
            await client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="one too many")
        response = caught.value.response
        assert response.status_code == 429
        assert response["error"] == "ratelimited"
        assert int(response.headers["Retry-After"]) >= 1
        assert sandbox.ratelimited == 1
        assert sandbox.calls("chat.update")[-1]["status"] == 429

        for n in range(2):
            await client.chat_postMessage(channel="C0GENERAL", text=f"burst {n}")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="#general", text="too fast")
        assert caught.value.response.status_code == 429
        await client.chat_postMessage(channel="C0RANDOM", text="another channel is fine")
        assert sandbox.ratelimited == 2


async def test_limits_can_be_switched_off_at_run_time(sandbox: Sandbox) -> None:
    sandbox.configure(rate_limits=True, tier_overrides={"users.info": 2})
    client = AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url)
    await client.users_info(user="U0ALICE")
    await client.users_info(user="U0ALICE")
    with pytest.raises(SlackApiError):
        await client.users_info(user="U0ALICE")
    sandbox.configure(rate_limits=False)
    await client.users_info(user="U0ALICE")
