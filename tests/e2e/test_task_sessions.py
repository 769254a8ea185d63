"""A /task is a session of its own, over real HTTP: it runs apart from the request that asked,
stops from the card's Stop button, Slack's Stop or a cancel stored by any process, takes in
replies in its thread as steering, and goes on after an approval clicked after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.core.store import ClaimStore
from bot.core.store.schema import ClaimRow
from bot.core.store.tasks import TaskStore
from bot.core.tasks.model import Task
from bot.sandbox import Sandbox
from bot.slack.render import task_card
from bot.slack.render.approval_view import APPROVE
from bot.slack.render.task_card import STOP
from bot.slack.task_runs import owner_key
from bot.slack.task_salvage import card_key
from bot.testkit.fakes import FakeAnthropic
from bot.testkit.fakes.script import Dynamic, Hang, Text, ToolCalls, ToolUse
from bot.testkit.processes import free_port, serving, start_serve
from bot.testkit.stack import Stack, bot_environment, bot_settings, running_bot
from tests.conftest import postgres_database
from tests.e2e.test_approvals import NOTE, Noticeboard, prompt_in
from tests.e2e.test_durable_answers import durable_environment
from tests.e2e.test_tasks import THREE_STEPS, card_of, ended, plan, start_task
from tests.mcp.servers import stdio_entry, write_config

BOTH_WAYS = pytest.mark.parametrize(
    "bot_options", [{"durable_answers": False}, {}], ids=["in-process", "durable"]
)
"""A task in the background of the process, and as its own durable workflow."""


def held_until(event: asyncio.Event, reply: ToolCalls | Text) -> Dynamic:
    """A model reply that waits for ``event`` (the test acts meanwhile)."""

    async def when_let_go(body: dict) -> ToolCalls | Text:
        await event.wait()
        return reply

    return Dynamic(when_let_go)


def sent_text(body: dict) -> str:
    """Everything a model request carried in its messages, as text."""
    return json.dumps(body.get("messages", []), ensure_ascii=False)


async def test_the_request_returns_while_the_task_works(stack) -> None:
    go_on = asyncio.Event()
    stack.model.script(plan("in_progress", "pending", "pending"), held_until(go_on, Text("ok")))
    short_id = await start_task(stack, "summarise this week's incidents")
    await stack.sandbox.wait_for(lambda: len(stack.model.requests) >= 2 or None, 10)
    # The /task request is done (its claim finished) while the task works on.
    async with stack.runtime.db.sessions() as session:
        rows = (await session.execute(select(ClaimRow))).scalars().all()
    commands = {row.key: row.state for row in rows if row.key.startswith("command:")}
    assert list(commands.values()) == ["done"]
    assert "▶️ Working" in card_of(stack.sandbox, short_id)["text"]
    go_on.set()
    assert "✅ Done" in (await ended(stack, short_id))["card"]["text"]


def _stop_button(card: dict) -> list[str]:
    return [
        element.get("action_id", "")
        for block in card.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


async def task_held_at_its_second_request(stack) -> tuple[asyncio.Event, str]:
    """A three-step task whose second model request is held until the returned event is set;
    returned once that request has arrived, with the task's short id."""
    go_on = asyncio.Event()
    stack.model.script(
        plan("in_progress", "pending", "pending"),
        held_until(go_on, plan("done", "in_progress", "pending")),
        *THREE_STEPS[2:],
    )
    short_id = await start_task(stack, "summarise this week's incidents")
    await stack.sandbox.wait_for(lambda: len(stack.model.requests) >= 2 or None, 10)
    return go_on, short_id


@BOTH_WAYS
async def test_stop_on_the_card_ends_the_task_at_the_next_step(stack) -> None:
    go_on, short_id = await task_held_at_its_second_request(stack)
    card = card_of(stack.sandbox, short_id)
    assert _stop_button(card) == [STOP]

    refused = await stack.sandbox.click("carol", "general", card["ts"], STOP, short_id)
    assert not refused["failed"]
    [note] = await stack.sandbox.wait_for(lambda: stack.sandbox.ephemeral("carol") or None, 10)
    assert "Only <@U0ALICE> or an admin can stop" in note["text"]

    await stack.sandbox.click("alice", "general", card["ts"], STOP, short_id)
    [told] = await stack.sandbox.wait_for(lambda: stack.sandbox.ephemeral("alice") or None, 10)
    assert "stops at its next step" in told["text"]
    go_on.set()  # the step under way ends; the next one is not asked for
    end = await ended(stack, short_id)
    card, replies = end["card"], end["replies"]
    assert "⏹️ Stopped" in card["text"] and not _stop_button(card)
    assert "stopped: stopped by <@U0ALICE>" in str(card["blocks"])
    answer, closing = replies[0], replies[-1]
    assert "partial report" in answer["text"] and "Read the incidents" in answer["text"]
    assert closing["text"].startswith(
        f"<@U0ALICE> task `{short_id}` stopped: stopped by <@U0ALICE>."
    )
    assert "Done: Read the incidents." in closing["text"]
    await stack.sandbox.settle()
    assert len(stack.model.requests) == 2


async def test_slacks_stop_of_the_streaming_answer_stops_the_task(stack) -> None:
    go_on, short_id = await task_held_at_its_second_request(stack)
    card = card_of(stack.sandbox, short_id)
    [streaming] = stack.sandbox.replies("general", card["ts"], from_bot=True)
    channel = stack.sandbox.channels()
    general = next(c["id"] for c in channel if c["name"] == "general")
    stack.sandbox.events.send(
        {
            "type": "agent_session_stopped",
            "user": "U0ALICE",
            "channel": general,
            "thread_ts": card["ts"],
            "streaming_message_ts": streaming["ts"],
            "event_ts": streaming["ts"],
        }
    )
    await stack.sandbox.wait_for(
        lambda: "stopping: stopped by <@U0ALICE>" in str(card_of(stack.sandbox, short_id)) or None,
        10,
    )
    go_on.set()
    end = await ended(stack, short_id)
    assert end["replies"][-1]["text"].startswith(
        f"<@U0ALICE> task `{short_id}` stopped: stopped by <@U0ALICE>."
    )
    await stack.sandbox.settle()
    assert len(stack.model.requests) == 2


@BOTH_WAYS
async def test_a_cancel_stored_by_another_process_reaches_the_run(stack) -> None:
    go_on, short_id = await task_held_at_its_second_request(stack)
    elsewhere = TaskStore(stack.runtime.db)  # what another replica's /task cancel writes
    task = await elsewhere.get(short_id)
    assert await elsewhere.request_stop(task.id, "cancelled by <@U0BOB>") == "stopping"
    go_on.set()
    end = await ended(stack, short_id)
    assert end["replies"][-1]["text"].startswith(
        f"<@U0ALICE> task `{short_id}` stopped: cancelled by <@U0BOB>."
    )
    await stack.sandbox.settle()
    assert len(stack.model.requests) == 2


@BOTH_WAYS
async def test_a_reply_in_the_thread_steers_the_task(stack) -> None:
    go_on, short_id = await task_held_at_its_second_request(stack)
    card = card_of(stack.sandbox, short_id)
    stack.sandbox.post_message("bob", "general", "Focus on the database outage", card["ts"])
    bot = stack.sandbox.bot_user_id
    stack.sandbox.post_message("carol", "general", f"<@{bot}> skip the cache", card["ts"])
    await stack.sandbox.settle()  # the reply is delivered while the step is under way
    go_on.set()
    end = await ended(stack, short_id)
    reply = "Focus on the database outage"
    steered = [r for r in stack.model.requests[2:] if reply in sent_text(r.json)]
    assert steered, [sent_text(r.json)[-300:] for r in stack.model.requests]
    assert "<@U0BOB>" in sent_text(steered[0].json)
    # Given once, then kept in the run's history: every later request has it once.
    assert all(sent_text(r.json).count(reply) == 1 for r in steered)
    assert len(steered) == len(stack.model.requests) - 2
    assert "📨 Taken in: <@U0BOB> “Focus on the database outage”" in str(end["card"]["blocks"])
    # A mention in the thread steers it too, instead of starting a second run there.
    assert "skip the cache" in sent_text(steered[0].json) and "<@U0CAROL>" in sent_text(
        steered[0].json
    )
    # Neither was answered on its own: the thread has the task's answer and its end.
    answers = [r for r in end["replies"] if f"task `{short_id}`" not in r["text"]]
    assert len(answers) == 1 and "All three steps are done" in answers[0]["text"]


@pytest.fixture
def board() -> Noticeboard:
    return Noticeboard()


@pytest.mark.parametrize(
    ("durable", "restart"),
    [(False, True), (True, False), (True, True)],
    ids=["in-process-after-a-restart", "durable", "durable-after-a-restart"],
)
async def test_a_task_waiting_for_approval_goes_on_after_the_click(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path, board, durable: bool, restart: bool
) -> None:
    settings = bot_settings(sandbox, model, tmp_path, durable_answers=durable)
    model.script(
        plan("in_progress", "pending", "pending"),
        ToolCalls([ToolUse("post_note", NOTE, id="toolu_pin")], text="Pinning the note."),
        plan("done", "done", "in_progress"),
        plan("done", "done", "done"),
        Text("All three steps are done, and the note is pinned."),
    )

    async def approved(runtime, url, prompt: dict) -> dict:
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        return await ended(Stack(sandbox, model, runtime, url), short_id)

    async with running_bot(settings, sandbox, board.tools()) as (runtime, url):
        stack = Stack(sandbox, model, runtime, url)
        short_id = await start_task(stack, "summarise this week's incidents")
        card = card_of(sandbox, short_id)
        prompt = await prompt_in(sandbox, card["ts"])
        await sandbox.wait_for(
            lambda: "⏸️ Waiting for approval" in card_of(sandbox, short_id)["text"] or None, 10
        )
        paused_tokens = _tokens(card_of(sandbox, short_id))
        assert paused_tokens > 0
        assert not [r for r in sandbox.replies("general", card["ts"]) if "task `" in r["text"]]
        if not restart:
            end = await approved(runtime, url, prompt)
    if restart:
        async with running_bot(settings, sandbox, board.tools()) as (runtime, url):
            end = await approved(runtime, url, prompt)
    assert board.posted == ["Deploy freeze from 5pm"]
    card, replies = end["card"], end["replies"]
    assert "✅ Done" in card["text"] and "3/3 steps" in str(card["blocks"])
    drawn = [str(c["args"].get("blocks")) for c in sandbox.calls("chat.update")]
    assert any("✅ Compare with last week\\n▶️ Write the summary" in d for d in drawn)
    closings = [r for r in replies if r["text"].startswith(f"<@U0ALICE> task `{short_id}`")]
    assert len(closings) == 1 and "is done." in closings[0]["text"]
    assert "update_plan" in str(model.requests[-1].json["tools"])  # the resumed run is the task's
    assert _tokens(card) > paused_tokens  # the budget counts both parts


def _tokens(card: dict) -> int:
    """The tokens used, as the card's status line shows them."""
    found = re.search(r"([\d,]+) of 200,000 tokens", str(card["blocks"]))
    assert found, card
    return int(found.group(1).replace(",", ""))


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request):
    """SQLite in the bot's data folder (DBOS in a file beside it), or a fresh PostgreSQL
    database (DBOS in its schema ``dbos``)."""
    if request.param == "sqlite":
        yield {}
        return
    async with postgres_database() as db:
        yield {"TEAMMATE_DATABASE_URL": db.url}


async def test_a_task_killed_mid_way_finishes_after_a_restart(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path, database
) -> None:
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1", **database)
    log = tmp_path / "bot.log"
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    model.script(
        plan("in_progress", "pending", "pending"),
        plan("done", "in_progress", "pending"),
        Hang(10.0),  # the third step's request: the process dies while it waits
        *THREE_STEPS[2:],
    )
    seen = SimpleNamespace(sandbox=sandbox)
    bot = await start_serve(env, port, log)
    try:
        short_id = await start_task(seen, "summarise this week's incidents")

        def second_step_shown() -> bool:
            blocks = str(card_of(sandbox, short_id)["blocks"])
            return "✅ Read the incidents\\n▶️ Compare with last week" in blocks

        await sandbox.wait_for(
            lambda: (len(model.requests) >= 3 and second_step_shown()) or None, 20
        )
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    async with serving(env, port, log):
        end = await ended(seen, short_id, within=60)
        await sandbox.settle()
        replies = sandbox.replies("general", end["card"]["ts"], from_bot=True)
    card = card_of(sandbox, short_id)
    assert "✅ Done" in card["text"] and "3/3 steps" in str(card["blocks"])
    closings = [r for r in replies if f"task `{short_id}`" in r["text"]]
    assert len(closings) == 1
    assert closings[0]["text"].startswith(f"<@U0ALICE> task `{short_id}` is done.")
    answers = [r for r in replies if r not in closings]
    assert len(answers) == 1 and "All three steps are done" in answers[0]["text"]
    # The three requests before the kill, then the three the resumed task made.
    assert len(model.requests) == 3 + len(THREE_STEPS[2:])
    # Its first run was not a resume; its run after the restart was.
    assert log.read_text().count("resuming the answer of task:") == 1


@pytest.mark.parametrize("bot_options", [{"max_tasks": 1}])
async def test_stop_on_a_queued_task_stops_it_before_it_starts(stack) -> None:
    go_on = asyncio.Event()
    stack.model.script(held_until(go_on, Text("First done.")), Text("Never asked."))
    first = await start_task(stack, "summarise alpha")
    await stack.sandbox.wait_for(lambda: stack.model.requests or None, 10)
    second = await start_task(stack, "summarise beta")
    card = card_of(stack.sandbox, second)
    assert "⏳ Queued" in card["text"] and _stop_button(card) == [STOP]
    await stack.sandbox.click("alice", "general", card["ts"], STOP, second)
    [told] = await stack.sandbox.wait_for(lambda: stack.sandbox.ephemeral("alice") or None, 10)
    assert told["text"] == f"Task `{second}` is cancelled."
    await stack.sandbox.wait_for(
        lambda: "⏹️ Stopped" in card_of(stack.sandbox, second)["text"] or None, 10
    )
    assert not _stop_button(card_of(stack.sandbox, second))
    go_on.set()
    assert "✅ Done" in (await ended(stack, first))["card"]["text"]
    await stack.sandbox.settle()
    assert len(stack.model.requests) == 1  # the stopped task never asked the model


def closed_as_interrupted(end: dict, short_id: str) -> tuple[str, str]:
    """The reference an interrupted task's card shows and the text of its closing line, which
    names the same reference."""
    card = end["card"]
    assert "⚠️ Interrupted" in card["text"]
    reference = re.search(r"interrupted by a restart · ref `(\w+)`", str(card["blocks"]))
    assert reference is not None, card["blocks"]
    [closing] = [r for r in end["replies"] if f"task `{short_id}`" in r["text"]]
    head = f"<@U0ALICE> task `{short_id}` was interrupted by a restart (ref `{reference.group(1)}`)"
    assert closing["text"].startswith(head), closing["text"]
    return reference.group(1), closing["text"][len(head) :]


async def task_cut_at_its_first_step(
    sandbox: Sandbox, model: FakeAnthropic, env: dict[str, str], log: Path
) -> tuple[str, int]:
    """Start `teammate serve` on a free port, `/task` in #general, and SIGKILL the bot once the
    card shows the plan's first step working (the task's second request waits). Returns the
    task's short id and the port, for the restart."""
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    model.script(plan("in_progress", "pending", "pending"), Hang(30.0))
    bot = await start_serve(env, port, log)
    try:
        short_id = await start_task(SimpleNamespace(sandbox=sandbox), "summarise the incidents")
        await sandbox.wait_for(
            lambda: (
                (
                    len(model.requests) >= 2
                    and "▶️ Read the incidents" in str(card_of(sandbox, short_id)["blocks"])
                )
                or None
            ),
            20,
        )
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    return short_id, port


async def test_a_task_whose_process_died_ends_as_interrupted_at_the_next_start(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path
) -> None:
    """Without durable answers nothing resumes it: the card, the list and the thread say so."""
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_STREAM_INTERVAL": "0.2",
        "TEAMMATE_CLAIM_LEASE_SECONDS": "3",
        "TEAMMATE_DURABLE_ANSWERS": "false",
    }
    log = tmp_path / "bot.log"
    short_id, port = await task_cut_at_its_first_step(sandbox, model, env, log)
    seen = SimpleNamespace(sandbox=sandbox)
    async with serving(env, port, log):
        end = await ended(seen, short_id, within=60)
        listed = await sandbox.run_command("alice", "general", "/task", "list")
        assert listed["status"] == 200
        [note] = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "general") or None)
    reference, closing = closed_as_interrupted(end, short_id)
    assert "Not done: Read the incidents; Compare with last week; Write the summary." in closing
    assert f"`{short_id}` ⚠️ Interrupted" in note["text"]
    assert f"ref={reference}" in log.read_text()
    assert len(model.requests) == 2  # it was not run again


@pytest.mark.parametrize("bot_options", [{"claim_lease_seconds": 1.0, "durable_answers": False}])
async def test_only_a_task_whose_process_is_gone_is_ended_as_interrupted(stack) -> None:
    """Processes that share the database: a task another live process works on is left alone."""
    desk, db = stack.runtime.services.tasks, stack.runtime.db
    general = stack.sandbox.ws.find_channel("general").id

    async def left_by(owner: str, lease: float, goal: str) -> Task:
        task = await desk.store.create(
            stack.sandbox.team_id, general, "U0ALICE", goal, desk.limits.budget()
        )
        text, blocks = task_card.card(task)
        posted = await stack.runtime.app.client.chat_postMessage(
            channel=general, text=text, blocks=blocks
        )
        await desk.store.save(task, card_ts=posted["ts"], state="running")
        await ClaimStore(db, owner, lease_seconds=lease).claim(owner_key(task.id))
        return task

    alive = await left_by("another-replica:7", 3600.0, "summarise alpha")
    gone = await left_by("a-dead-replica:9", 0.05, "summarise beta")
    end = await ended(stack, gone.short_id, within=15)  # the next sweep, a lease later
    assert "⚠️ Interrupted" in end["card"]["text"]
    await stack.runtime.salvage.sweep()  # type: ignore[union-attr]
    assert (await desk.store.by_id(alive.id)).state == "running"  # type: ignore[union-attr]
    assert "Interrupted" not in card_of(stack.sandbox, alive.short_id)["text"]
    assert not stack.sandbox.replies("general", card_of(stack.sandbox, alive.short_id)["ts"])
    [closing] = [r for r in end["replies"] if f"task `{gone.short_id}`" in r["text"]]
    assert "was interrupted by a restart" in closing["text"]


@pytest.mark.parametrize("durable", ["true", "false"])
async def test_a_task_whose_process_died_before_its_card_was_recorded_ends_as_interrupted(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path, durable: str
) -> None:
    """Killed while Slack posts the card (posted, its ts never stored): no run was started, so
    nothing would ever run it, durable answers or not. The next start finds the card by its
    mark and ends the task there: the card says so, not "queued", and so does its thread."""
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_CLAIM_LEASE_SECONDS": "2",
        "TEAMMATE_DURABLE_ANSWERS": durable,
    }
    log = tmp_path / "bot.log"
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    bot = await start_serve(env, port, log)
    try:
        with sandbox.holding("chat.postMessage", lambda args: "Task `" in args["text"]) as card:
            result = await sandbox.run_command("alice", "general", "/task", "count the incidents")
            assert result["status"] == 200 and not result["failed"], result
            posted = await card.seen(20)
            bot.send_signal(signal.SIGKILL)
            bot.wait()
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    short_id = re.search(r"Task `(\w{6})`", posted["text"]).group(1)  # type: ignore[union-attr]
    left = card_of(sandbox, short_id)
    assert "Queued" in left["text"]
    seen = SimpleNamespace(sandbox=sandbox)
    async with serving(env, port, log):
        end = await ended(seen, short_id, within=60)
        listed = await sandbox.run_command("alice", "general", "/task", "list")
        assert listed["status"] == 200
        [shown] = await sandbox.wait_for(lambda: sandbox.ephemeral("alice", "general") or None, 30)
    assert end["card"]["ts"] == left["ts"]  # the card Slack had posted, drawn again
    reference, closing = closed_as_interrupted(end, short_id)
    assert closing.startswith(": it stopped with the process that was starting it")
    assert f"ref={reference}" in log.read_text()
    assert f"`{short_id}` ⚠️ Interrupted · count the incidents" in shown["text"]
    assert not model.requests  # it was never run


@pytest.mark.parametrize("bot_options", [{"claim_lease_seconds": 1.0, "durable_answers": False}])
async def test_a_task_whose_card_was_never_posted_is_told_privately(stack) -> None:
    """A process that died before Slack posted the card left nothing in the channel to draw:
    the look for the card finds none, and the requester is told in the channel, privately."""
    desk, db = stack.runtime.services.tasks, stack.runtime.db
    general = stack.sandbox.ws.find_channel("general").id
    task = await desk.store.create(
        stack.sandbox.team_id, general, "U0ALICE", "count the incidents", desk.limits.budget()
    )
    await ClaimStore(db, "a-dead-replica:9", lease_seconds=0.05).claim(card_key(task.id))
    [note] = await stack.sandbox.wait_for(  # the next sweep, a lease later
        lambda: stack.sandbox.ephemeral("alice", "general") or None, 15
    )
    assert note["text"].startswith(
        f"Task `{task.short_id}` (count the incidents) was interrupted by a restart before it"
        " started"
    )
    assert not [m for m in stack.sandbox.channel_messages("general") if m.get("bot_id")]
    assert (await desk.store.by_id(task.id)).state == "interrupted"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bot_options",
    [
        {"claim_lease_seconds": 1.0, "durable_answers": False},
        {"claim_lease_seconds": 1.0, "durable_answers": True},
    ],
)
async def test_a_task_whose_card_is_slow_to_post_is_not_ended(stack) -> None:
    """Its process lives and keeps the posting's claim alive: a sweep leaves it alone however
    long Slack takes, and the task then runs as usual."""
    stack.model.script(Text("The incidents are counted: three."))
    salvage, desk = stack.runtime.salvage, stack.runtime.services.tasks
    assert salvage is not None and desk is not None
    with stack.sandbox.holding("chat.postMessage", lambda args: "Task `" in args["text"]) as card:
        await stack.sandbox.run_command("alice", "general", "/task", "count the incidents")
        posted = await card.seen(20)
        short_id = re.search(r"Task `(\w{6})`", posted["text"]).group(1)  # type: ignore[union-attr]
        await asyncio.sleep(2.5)  # over two leases: a dead poster's would have run out
        assert await salvage.sweep() == 0
        assert (await desk.store.get(short_id)).state == "queued"  # type: ignore[union-attr]
    end = await ended(stack, short_id)
    assert "✅ Done" in end["card"]["text"]
    assert not stack.sandbox.ephemeral("alice", "general")


async def test_a_task_whose_process_died_after_an_approval_ends_as_interrupted(
    sandbox: Sandbox, model: FakeAnthropic, tmp_path
) -> None:
    """Without durable answers: the part after the click holds the task's claim, as the part
    before it did, so once that process is gone the task is ended, not left "working"."""
    servers = {"wiki": stdio_entry(tools=["delete_page"], risk="write")}
    env = {
        **os.environ,
        **bot_environment(sandbox, model, tmp_path),
        "TEAMMATE_STREAM_INTERVAL": "0.2",
        "TEAMMATE_CLAIM_LEASE_SECONDS": "2",
        "TEAMMATE_DURABLE_ANSWERS": "false",
        "TEAMMATE_MCP_CONFIG": str(write_config(tmp_path, servers)),
    }
    model.script(
        plan("in_progress", "pending", "pending"),
        ToolCalls([ToolUse("wiki_delete_page", {"title": "Old runbook"}, id="toolu_del")]),
        Hang(60.0),  # the request after the approved call: cut by the kill
    )
    log = tmp_path / "bot.log"
    port = free_port()
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    seen = SimpleNamespace(sandbox=sandbox)
    bot = await start_serve(env, port, log)
    try:
        short_id = await start_task(seen, "tidy the wiki's runbooks")
        prompt = await prompt_in(sandbox, card_of(sandbox, short_id)["ts"])
        await sandbox.click("alice", "general", prompt["ts"], APPROVE)
        await sandbox.wait_for(lambda: len(model.requests) >= 3 or None, 30)
    finally:
        bot.send_signal(signal.SIGKILL)
        bot.wait()
    async with serving(env, port, log):
        end = await ended(seen, short_id, within=60)
    assert "⚠️ Interrupted" in end["card"]["text"]
    [closing] = [r for r in end["replies"] if f"task `{short_id}`" in r["text"]]
    assert closing["text"].startswith(
        f"<@U0ALICE> task `{short_id}` was interrupted by a restart (ref `"
    )
    assert len(model.requests) == 3  # it was not run again
