"""The embedded model cannot call tools, so "remember for this channel: …" is saved for it, and
the channel's notes reach its prompt: a later answer in another thread uses them."""

from __future__ import annotations

from bot.testkit.stack import Stack


async def test_remember_for_this_channel_then_use_it_in_another_thread(local_stack) -> None:
    stack: Stack = local_stack
    posted = stack.mention("Remember for this channel: the team lunch is on Friday at noon.")
    [saved] = await stack.answer("general", posted["ts"], within=120)
    assert "Saved for this channel" in saved["text"] and "Friday at noon" in saved["text"]
    assert "Saved without the model" in str(saved["blocks"])

    posted = stack.mention("When is the team lunch?")
    [reply] = await stack.answer("general", posted["ts"], within=120)
    assert "friday" in reply["text"].lower(), reply["text"]
    assert "memory in the prompt" in str(reply["blocks"])

    elsewhere = stack.mention("When is the team lunch?", channel="random")
    [reply] = await stack.answer("random", elsewhere["ts"], within=120)
    assert "memory in the prompt" not in str(reply["blocks"])
