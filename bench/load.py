"""An open-loop load generator for signed Slack requests.

Open loop, as Slack itself behaves: request i leaves at start + i / rate whether or not the
earlier ones were answered. Latency is counted from that scheduled moment to the end of the
response, so a server that stalls is charged for every request queued behind the stall
(no "coordinated omission"); how late the generator itself was is recorded beside it, to
show the client was not the bottleneck. Each request is signed when it leaves, as Slack does.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from dataclasses import dataclass

import aiohttp
from slack_sdk.signature import SignatureVerifier

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Sample:
    latency: float  # seconds from the scheduled send to the last response byte; inf: none
    lag: float  # seconds the generator was late sending it
    status: int | None  # None: no response (timeout or connection error)


async def open_loop(
    url: str,
    bodies: list[bytes],
    content_type: str,
    signing_secret: str,
    rate: float,
    timeout: float = 5.0,  # noqa: ASYNC109 - a per-request bound, passed to aiohttp
) -> list[Sample]:
    """Send every body once at ``rate`` per second; one Sample per body, in order."""
    verifier = SignatureVerifier(signing_secret)
    loop = asyncio.get_running_loop()
    limits = aiohttp.ClientTimeout(total=timeout)
    connector = aiohttp.TCPConnector(limit=1000)

    async with aiohttp.ClientSession(connector=connector, timeout=limits) as session:

        async def send(body: bytes, due: float) -> Sample:
            lag = loop.time() - due
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": verifier.generate_signature(
                    timestamp=stamp, body=body.decode()
                ),
            }
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status: int | None = response.status
            except (TimeoutError, aiohttp.ClientError, OSError):
                return Sample(math.inf, lag, None)
            return Sample(loop.time() - due, lag, status)

        gc.collect()
        gc.disable()
        try:
            start = loop.time() + 0.05
            tasks = []
            for i, body in enumerate(bodies):
                due = start + i / rate
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.create_task(send(body, due)))
            return list(await asyncio.gather(*tasks))
        finally:
            gc.enable()
