"""A fake run as its own process, scripted through the /_fake/ control routes."""

import asyncio
import sys
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

ROOT = Path(__file__).resolve().parents[2]


async def start_process(module: str, *args: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start `python -m <module> --port 0` and read the URL it prints once bound."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--port",
        "0",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert b"listening on" in line, line
    return proc, line.decode().split()[-1]


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_anthropic_fake_as_a_process() -> None:
    proc, url = await start_process(
        "bot.testkit.fakes.anthropic_server", "--text", "default answer"
    )
    try:
        async with httpx2.AsyncClient(base_url=url) as control:
            scripted = await control.post(
                "/_fake/script",
                json=[
                    {"kind": "text", "text": "scripted words", "delay": 0.01},
                    {"kind": "status", "code": 529},
                    {"kind": "echo", "prefix": "echo: "},
                ],
            )
            assert scripted.json() == {"queued": 3, "pending": 3}
            bad = await control.post("/_fake/script", json=[{"kind": "sonnet"}])
            assert bad.status_code == 400

            client = anthropic.AsyncAnthropic(base_url=url, api_key="test", max_retries=0)
            ask = {
                "model": "claude-haiku-4-5",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": "ping"}],
            }
            async with client.messages.stream(**ask) as stream:
                assert [e.text async for e in stream if e.type == "text"] == ["scripted ", "words"]
            with pytest.raises(anthropic.APIStatusError) as caught:
                await client.messages.create(**ask)
            assert caught.value.status_code == 529
            assert (await client.messages.create(**ask)).content[0].text == "echo: ping"
            assert (await client.messages.create(**ask)).content[0].text == "default answer"

            recorded = (await control.get("/_fake/requests")).json()
            assert [r["path"] for r in recorded] == ["/v1/messages"] * 4
            assert recorded[0]["json"]["stream"] is True
            assert set(recorded[0]) == {"method", "path", "query", "headers", "json", "received_at"}

            await control.post("/_fake/script", json={"default": {"kind": "text", "text": "new"}})
            assert (await client.messages.create(**ask)).content[0].text == "new"
            await control.post("/_fake/clear")
            assert (await control.get("/_fake/requests")).json() == []
    finally:
        await stop_process(proc)


async def test_openai_fake_as_a_process() -> None:
    proc, url = await start_process("bot.testkit.fakes.openai_server")
    try:
        async with httpx2.AsyncClient(base_url=url) as control:
            await control.post(
                "/_fake/script",
                json=[{"kind": "tool_calls", "calls": [{"name": "f", "args": {"a": 1}}]}],
            )
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="test", max_retries=0)
        ask = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
        completion = await client.chat.completions.create(**ask)
        assert completion.choices[0].message.tool_calls[0].function.name == "f"
        assert (await client.chat.completions.create(**ask)).choices[0].message.content == "ok"
    finally:
        await stop_process(proc)
