"""Deep mode over real HTTP: the sandbox as Slack, fake model servers speaking the real wire
formats, the real bot between them.

Asked for with `/ask --deep`, "think hard" in a message, or a channel default, each model gets
the thinking its catalog style calls for; the thread shows a "Thinking…" step while it runs;
the finished answer has a "Show reasoning" button that opens the summary in a modal for
whoever clicks; a model without thinking answers normally and says so.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import update

from bot.core.store.schema import ReasoningRow
from bot.slack.blocks import MODAL_BLOCKS, MODAL_TEXT_LIMIT, SHOW_REASONING
from bot.testkit.fakes import FakeOpenAI, Text
from bot.testkit.stack import Stack, bot_settings, running_bot

THOUGHT = "The rota rotates weekly, so count the weeks since it started."
ANSWER = "Bob is on call this week."


async def ask(stack: Stack, text: str, user: str = "alice") -> dict:
    """`/ask text` in #general; the bot's finished reply in the question's thread."""
    before = {m["ts"] for m in stack.sandbox.channel_messages("general")}
    result = await stack.sandbox.run_command(user, "general", "/ask", text)
    assert result["status"] == 200 and not result["failed"]
    question = await stack.sandbox.wait_for(
        lambda: next(
            (m for m in stack.sandbox.channel_messages("general") if m["ts"] not in before),
            None,
        )
    )
    [reply] = await stack.answer("general", question["ts"])
    return reply


async def mention(stack: Stack, text: str) -> dict:
    posted = stack.mention(text)
    [reply] = await stack.answer("general", posted["ts"])
    return reply


def buttons(reply: dict) -> dict[str, dict]:
    found = {}
    for block in reply.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def footer_text(reply: dict) -> str:
    return str([b for b in reply.get("blocks") or [] if b.get("type") == "context"])


def modal_text(modal: dict) -> str:
    return "".join(
        block["text"]["text"] for block in modal["blocks"] if block.get("type") == "section"
    )


def task_states(stack: Stack, task_id: str) -> list[str]:
    """The states a task was sent in, call by call, while the answer streamed."""
    states = []
    for call in stack.sandbox.calls():
        if not call["method"].endswith("Stream"):
            continue
        chunks: Any = call["args"].get("chunks") or []
        chunks = json.loads(chunks) if isinstance(chunks, str) else chunks
        states += [c["status"] for c in chunks if c.get("id") == task_id]
    return states


# -- switching it on -------------------------------------------------------------------------


async def test_ask_deep_on_a_budget_model_sends_a_budget_below_max_tokens(stack) -> None:
    stack.model.script(Text(ANSWER, thinking=THOUGHT))
    reply = await ask(stack, "--deep who is on call?")
    assert reply["text"].strip() == ANSWER and THOUGHT not in str(reply)
    body = stack.model.requests[-1].json
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8000}
    assert body["max_tokens"] > body["thinking"]["budget_tokens"]
    assert "--deep" not in str(body["messages"])  # the flag is not part of the question
    assert SHOW_REASONING in buttons(reply)


@pytest.mark.parametrize("bot_options", [{"model": "anthropic:claude-sonnet-4-6"}])
async def test_ask_deep_on_an_adaptive_model_sends_adaptive_thinking(stack) -> None:
    stack.model.script(Text(ANSWER, thinking=THOUGHT))
    reply = await ask(stack, "--deep who is on call?")
    assert reply["text"].strip() == ANSWER
    body = stack.model.requests[-1].json
    assert body["thinking"]["type"] == "adaptive"
    assert body["thinking"]["display"] == "summarized"  # newer models omit it otherwise
    assert "budget_tokens" not in body["thinking"]


@pytest.mark.parametrize(
    "phrase", ["think hard: who is on call?", "Think harder please, who is on call?"]
)
async def test_think_hard_in_a_mention_asks_for_thinking(stack, phrase: str) -> None:
    stack.model.script(Text(ANSWER, thinking=THOUGHT))
    reply = await mention(stack, phrase)
    assert reply["text"].strip() == ANSWER
    assert stack.model.requests[-1].json["thinking"]["type"] == "enabled"


async def test_without_asking_no_thinking_is_sent_and_there_is_no_button(stack) -> None:
    stack.model.script(Text(ANSWER))
    reply = await mention(stack, "who is on call?")
    assert "thinking" not in stack.model.requests[-1].json
    assert SHOW_REASONING not in buttons(reply) and "feedback_good" in buttons(reply)


async def test_the_channel_default_turns_deep_mode_on_and_off(stack) -> None:
    sandbox = stack.sandbox
    await sandbox.run_command("alice", "general", "/teammate", "deep on")
    note = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "general"))
    assert "Deep mode is on in this channel" in note[-1]["text"]
    stack.model.script(Text(ANSWER, thinking=THOUGHT), Text("Elsewhere, no thinking."))
    await mention(stack, "who is on call?")
    assert stack.model.requests[-1].json["thinking"]["type"] == "enabled"

    sandbox.post_message("bob", "random", f"<@{sandbox.bot_user_id}> and here?")
    await sandbox.wait_for(lambda: len(stack.model.requests) == 2)
    assert "thinking" not in stack.model.requests[-1].json  # another channel: its own default

    await sandbox.run_command("bob", "general", "/teammate", "deep off")
    await sandbox.wait_for(lambda: "off" in str(sandbox.ephemeral("bob", "general")))
    stack.model.script(Text("Back to normal."))
    await mention(stack, "who is on call now?")
    assert "thinking" not in stack.model.requests[-1].json

    await sandbox.run_command("carol", "general", "/teammate", "deep")
    await sandbox.wait_for(lambda: "Deep mode is off" in str(sandbox.ephemeral("carol")))
    asked = await sandbox.run_command("carol", "general", "/teammate", "deep maybe")
    assert "Usage: `/teammate deep on`" in str(asked["body"])


async def test_ask_no_deep_answers_quickly_where_the_channel_thinks_longer(stack) -> None:
    sandbox = stack.sandbox
    await sandbox.run_command("alice", "general", "/teammate", "deep on")
    await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "general"))
    stack.model.script(Text("Bob, this week."), Text(ANSWER, thinking=THOUGHT))
    reply = await ask(stack, "--no-deep who is on call?")
    assert reply["text"].strip() == "Bob, this week."
    body = stack.model.requests[-1].json
    assert "thinking" not in body and "--no-deep" not in str(body["messages"])
    assert "who is on call?" in str(body["messages"])
    assert SHOW_REASONING not in buttons(reply)
    await ask(stack, "who is on call?")  # the channel's default holds for the next question
    assert stack.model.requests[-1].json["thinking"]["type"] == "enabled"
    empty = await sandbox.run_command("alice", "general", "/ask", "--no-deep")
    assert "`/ask [--deep | --no-deep] <question>`" in str(empty["body"])


# -- while it thinks -------------------------------------------------------------------------


async def test_a_thinking_step_runs_until_the_answer_starts(stack) -> None:
    stack.model.script(Text(ANSWER, thinking=THOUGHT, delay=0.05))
    reply = await ask(stack, "--deep who is on call?")
    states = task_states(stack, "thinking-1")
    assert states[0] == "in_progress" and states[-1] == "complete"
    [step] = [c for c in reply["chunks"] if c.get("id") == "thinking-1"]
    assert step["title"] == "Thinking…" and step["status"] == "complete"
    panel = stack.sandbox.assistant("general", reply["thread_ts"])
    assert "is thinking…" in [entry["status"] for entry in panel["status_history"]]


async def test_the_thinking_step_is_a_line_where_chat_update_draws(stack) -> None:
    stack.sandbox.configure(disabled_methods=["chat.startStream", "chat.appendStream"])
    stack.model.script(Text(ANSWER, thinking=THOUGHT, delay=0.05))
    reply = await ask(stack, "--deep who is on call?")
    lines = reply["blocks"][0]["text"].splitlines()
    assert lines[0] == "✅ Thinking…" and lines[-1] == ANSWER
    drawn = [str(call["args"]) for call in stack.sandbox.calls("chat.postMessage")]
    drawn += [str(call["args"]) for call in stack.sandbox.calls("chat.update")]
    assert any("⏳ Thinking…" in text for text in drawn)  # shown running first
    assert SHOW_REASONING in buttons(reply)


# -- the reasoning on demand -----------------------------------------------------------------


async def test_show_reasoning_opens_the_summary_for_the_clicker_only(stack) -> None:
    stack.model.script(Text(ANSWER, thinking=THOUGHT))
    reply = await ask(stack, "--deep who is on call?")
    before = len(stack.sandbox.thread("general", reply["thread_ts"]))
    clicked = await stack.sandbox.click("bob", "general", reply["ts"], SHOW_REASONING)
    assert not clicked["failed"] and clicked["note"] is None
    modal = await stack.sandbox.wait_for(lambda: stack.sandbox.modal("bob"))
    assert modal["title"]["text"] == "Reasoning"
    assert modal_text(modal) == THOUGHT
    assert "Claude Haiku 4.5" in str(modal["blocks"][0])
    assert stack.sandbox.modal("alice") is None
    assert len(stack.sandbox.thread("general", reply["thread_ts"])) == before  # nothing posted
    assert THOUGHT not in str(stack.sandbox.channel_messages("general", include_replies=True))


async def test_a_long_reasoning_is_cut_to_fit_one_modal_and_says_so(stack) -> None:
    paragraph = "A step of the argument that goes on for a while. " * 40 + "\n\n"
    thought = paragraph * 160  # about 330,000 characters: more than 100 blocks can hold
    stack.model.script(Text(ANSWER, thinking=thought, chunk_size=20_000))
    reply = await ask(stack, "--deep who is on call?")
    await stack.sandbox.click("alice", "general", reply["ts"], SHOW_REASONING)
    modal = await stack.sandbox.wait_for(lambda: stack.sandbox.modal("alice"))
    sections = [b for b in modal["blocks"] if b["type"] == "section"]
    assert len(modal["blocks"]) <= MODAL_BLOCKS
    assert all(len(b["text"]["text"]) <= MODAL_TEXT_LIMIT for b in sections)
    shown = modal_text(modal)  # cut at paragraphs: about 2,000 characters a block here
    assert thought.startswith(shown) and 150_000 < len(shown) < len(thought)
    assert "as much as one window can show" in str(modal["blocks"][-1])


async def test_reasoning_is_kept_across_a_restart_and_only_for_its_channel(
    sandbox, model, tmp_path
) -> None:
    settings = bot_settings(sandbox, model, tmp_path)
    async with running_bot(settings, sandbox) as (runtime, url):
        model.script(Text(ANSWER, thinking=THOUGHT))
        reply = await ask(Stack(sandbox, model, runtime, url), "--deep who is on call?")
    reasoning_id = buttons(reply)[SHOW_REASONING]["value"]
    async with running_bot(settings, sandbox) as (runtime, _):
        await sandbox.click("carol", "general", reply["ts"], SHOW_REASONING)
        modal = await sandbox.wait_for(lambda: sandbox.modal("carol"))
        assert modal_text(modal) == THOUGHT
        elsewhere = await runtime.services.reasoning_modal(reasoning_id, "C0RANDOM")
        assert THOUGHT not in str(elsewhere) and "no longer available" in str(elsewhere)


async def test_reasoning_past_its_days_is_purged_at_start_and_the_button_says_so(
    sandbox, model, tmp_path
) -> None:
    settings = bot_settings(sandbox, model, tmp_path, reasoning_days=7)
    async with running_bot(settings, sandbox) as (runtime, url):
        model.script(Text(ANSWER, thinking=THOUGHT), Text(ANSWER, thinking="Fresh thoughts."))
        stack = Stack(sandbox, model, runtime, url)
        old, fresh = await ask(stack, "--deep who is on call?"), await ask(stack, "--deep again?")
        async with runtime.db.sessions.begin() as session:  # the first is eight days old
            await session.execute(
                update(ReasoningRow)
                .where(ReasoningRow.id == buttons(old)[SHOW_REASONING]["value"])
                .values(created_at=time.time() - 8 * 86400)
            )
    async with running_bot(settings, sandbox):
        await sandbox.click("carol", "general", old["ts"], SHOW_REASONING)
        modal = await sandbox.wait_for(lambda: sandbox.modal("carol"))
        assert THOUGHT not in str(modal)
        assert modal_text(modal) == (
            "This answer's reasoning is no longer available: reasoning is kept for 7 days, then "
            "cleared. The answer itself stays in the thread."
        )
        await sandbox.click("bob", "general", fresh["ts"], SHOW_REASONING)
        modal = await sandbox.wait_for(lambda: sandbox.modal("bob"))
        assert modal_text(modal) == "Fresh thoughts."


# -- other providers -------------------------------------------------------------------------


async def test_an_openai_compatible_model_gets_a_high_reasoning_effort(openai_stack) -> None:
    stack = openai_stack
    stack.model.script(Text(ANSWER, thinking=THOUGHT))
    reply = await ask(stack, "--deep who is on call?")
    assert stack.model.requests[-1].json["reasoning_effort"] == "high"
    assert reply["text"].strip() == ANSWER
    await stack.sandbox.click("alice", "general", reply["ts"], SHOW_REASONING)
    modal = await stack.sandbox.wait_for(lambda: stack.sandbox.modal("alice"))
    assert modal_text(modal) == THOUGHT


@pytest.fixture
async def local_stack(sandbox, tmp_path):
    """The embedded model's catalog entry (no thinking), served by a fake engine."""
    async with FakeOpenAI(models=("SmolLM2-135M-Instruct",)) as engine:
        settings = bot_settings(
            sandbox, None, tmp_path, model="local", local_model_url=engine.v1_url
        )
        async with running_bot(settings, sandbox) as (runtime, url):
            yield Stack(sandbox, engine, runtime, url)  # type: ignore[arg-type]


async def test_a_model_without_thinking_answers_normally_and_says_so_once(local_stack) -> None:
    stack = local_stack
    await stack.sandbox.run_command("alice", "general", "/teammate", "deep on")
    await stack.sandbox.wait_for(lambda: stack.sandbox.ephemeral("alice", "general"))
    stack.model.script(Text("Paris."))
    reply = await ask(stack, "--deep think hard: what is the capital of France?")
    body = stack.model.requests[-1].json
    assert "reasoning_effort" not in body and "thinking" not in body
    assert reply["text"].strip() == "Paris."
    notice = "SmolLM2 135M (embedded) has no deep mode; this is a normal answer."
    assert footer_text(reply).count(notice) == 1
    assert SHOW_REASONING not in buttons(reply)
