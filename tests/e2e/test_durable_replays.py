"""What a durable answer or task does besides its model requests and tool calls happens once
too. A real `teammate serve` is killed with SIGKILL at the worst moment (often once the sandbox
has taken a Web API call and keeps its answer back, so the bot never learns the message was
posted) and started again with the same executor id; the thread then shows what it would have
shown without the crash: one approval prompt (a second approval's too, cut as it was posted
after the first was clicked), whose click still goes on with the answer; the
request the crash cut sent again as it was, whatever was posted in the thread meanwhile; one
closing line for a task, whether the crash came as its card was drawn ended or as the line
itself was posted, after an approval too; and what another answer in the same thread posted
(on another replica, not yet recorded) stays when the killed one resumes; a resumed part cut
before it was recorded shows once, whether posted whole (Slack not streaming; found by its
mark) or streamed (its stream, unmarked until stopped, is deleted as Teammate's unrecorded
message after the prompt)."""

from __future__ import annotations

import functools
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest

from bot.core.store import ApprovalStore
from bot.core.store.db import Database
from bot.settings import Settings
from bot.slack.render.approval_view import APPROVE
from bot.testkit.fakes import Text, ToolCalls, ToolUse
from bot.testkit.processes import (
    COMPLETE_ANSWER,
    SLOW_ANSWER,
    complete_answer,
    free_port,
    mention_cut_by_sigkill,
    serving,
    start_serve,
)
from tests.conftest import postgres_database
from tests.e2e.test_approvals import prompt_in
from tests.e2e.test_durable_answers import durable_environment
from tests.e2e.test_durable_resumes import (
    PAUSED_WORDS,
    WRITE_TOOL,
    ledger_environment,
    the_task_ended_once,
    write_then,
)
from tests.e2e.test_tasks import card_of, ended, start_task
from tests.e2e.test_update_fallback import STREAM_METHODS

T = TypeVar("T")
KILL_WITHIN = 60
LOOKED_UP = "Let me look you up."
MEANWHILE = "Also, is the deploy still frozen?"


async def killed_when_held(sandbox, bot, method: str, match, act: Callable[[], Awaitable[T]]) -> T:
    """What ``act`` returns (it makes the bot call ``method``); the bot is killed with SIGKILL
    once Slack took such a call whose arguments ``match`` and keeps its answer back."""
    try:
        with sandbox.holding(method, match) as held:
            result = await act()
            await held.seen(KILL_WITHIN)
            bot.send_signal(signal.SIGKILL)
            bot.wait()
        return result
    finally:
        bot.kill()
        bot.wait()


def asks_for_approval(args: dict[str, Any]) -> bool:
    return APPROVE in str(args.get("blocks"))


def prompts_in(sandbox, ts: str) -> list[dict]:
    """The approval prompts in the thread that wait for a click."""
    return [r for r in sandbox.replies("general", ts, from_bot=True) if asks_for_approval(r)]


async def pending_approvals(env: dict[str, str]) -> list[str]:
    """The ids of the tool calls still waiting for a decision, as the bot's database has them."""
    settings = Settings(_env_file=None, data_dir=Path(env["TEAMMATE_DATA_DIR"]))  # type: ignore[call-arg]
    db = Database(settings.resolved_database_url)
    try:
        due = await ApprovalStore(db).due(now=float("inf"))
    finally:
        await db.close()
    return [row.id for row in due]


async def test_an_answer_killed_once_its_prompt_is_posted_asks_once(
    sandbox, model, tmp_path
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, {})
    call = ToolUse(WRITE_TOOL, {"entry": "deploy 42"}, id="toolu_write")
    model.script(ToolCalls([call], PAUSED_WORDS), Text(COMPLETE_ANSWER))
    log = tmp_path / "bot.log"
    mention = f"<@{sandbox.bot_user_id}> note deploy 42"

    async def ask() -> dict:
        return sandbox.post_message("alice", "general", mention)

    bot = await start_serve(env, port, log)
    posted = await killed_when_held(sandbox, bot, "chat.postMessage", asks_for_approval, ask)
    cut = await prompt_in(sandbox, posted["ts"])
    async with serving(env, port, log):
        # The resumed answer draws its text and its prompt again, once each.
        prompt = await sandbox.wait_for(
            lambda: [r for r in prompts_in(sandbox, posted["ts"]) if r["ts"] != cut["ts"]], 60
        )
        await sandbox.settle()
        assert prompts_in(sandbox, posted["ts"]) == prompt
        await sandbox.click("alice", "general", prompt[0]["ts"], APPROVE)
        replies = await complete_answer(sandbox, posted["ts"], 60)
        assert await pending_approvals(env) == []  # nothing left to time out into a second answer
    assert ledger.read_text().splitlines() == ["deploy 42"]
    assert [r["text"] for r in replies] == [PAUSED_WORDS, replies[1]["text"], COMPLETE_ANSWER]
    assert replies[1]["ts"] == prompt[0]["ts"] and "Approved by" in replies[1]["text"]


def messages_sent(model) -> list[list[dict]]:
    """The conversation each request to the model carried."""
    return [r.json["messages"] for r in model.requests if r.path == "/v1/messages"]


async def test_a_resumed_answer_asks_what_its_first_run_asked_whatever_the_thread_holds_now(
    sandbox, model, tmp_path
) -> None:
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1")
    model.script(
        ToolCalls([ToolUse("get_user", {"user": "U0ALICE"}, id="toolu_who")], LOOKED_UP),
        Text(SLOW_ANSWER, delay=0.05),
        Text(COMPLETE_ANSWER),
    )
    log = tmp_path / "bot.log"
    posted, port = await mention_cut_by_sigkill(
        sandbox, env, log, "who am I?", lambda text: "token1 " in text, within=KILL_WITHIN
    )
    # While the bot is down a reply comes into the thread (Slack gave up delivering it).
    sandbox.request_url = None
    sandbox.post_message("bob", "general", MEANWHILE, posted["ts"])
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    async with serving(env, port, log):
        [answer] = await complete_answer(sandbox, posted["ts"], 60)
    assert LOOKED_UP in answer["text"] and COMPLETE_ANSWER in answer["text"]
    first, cut, again = messages_sent(model)  # the completed first request was not sent again
    assert again == cut  # the request the crash cut went again as it was
    assert MEANWHILE not in json.dumps(again)
    assert "who am I?" in json.dumps(first)


def drawn_done(args: dict[str, Any]) -> bool:
    return "✅ Done" in str(args.get("text"))


def reports_done(args: dict[str, Any]) -> bool:
    return "is done." in str(args.get("text"))


def drawings_done(sandbox) -> int:
    """How often the card was drawn ended."""
    return len([c for c in sandbox.calls("chat.update") if drawn_done(c["args"])])


async def ended_after_a_restart(seen, short_id: str, env: dict[str, str], port: int, log: Path):
    """The task's end (card and replies) once a restarted bot took it up again: the card drawn
    ended once more than before; the bot stops gracefully after, letting the resumed run end."""
    sandbox = seen.sandbox
    before = await sandbox.wait_for(lambda: drawings_done(sandbox), 10)
    async with serving(env, port, log):
        await sandbox.wait_for(lambda: drawings_done(sandbox) > before, KILL_WITHIN)
        end = await ended(seen, short_id, within=KILL_WITHIN)
    await sandbox.settle()
    end["replies"] = sandbox.replies("general", end["card"]["ts"], from_bot=True)
    return end


ENDINGS = pytest.mark.parametrize(
    ("method", "match"),
    [("chat.update", drawn_done), ("chat.postMessage", reports_done)],
    ids=["killed-as-the-card-is-drawn-done", "killed-as-the-report-is-posted"],
)


@ENDINGS
async def test_a_task_killed_as_it_ends_reports_once(sandbox, model, tmp_path, method, match):
    env = durable_environment(sandbox, model, tmp_path, TEAMMATE_EXECUTOR_ID="bot-1")
    model.script(Text(COMPLETE_ANSWER))
    port, log = free_port(), tmp_path / "bot.log"
    sandbox.request_url = f"http://127.0.0.1:{port}/slack/events"
    seen = SimpleNamespace(sandbox=sandbox)
    bot = await start_serve(env, port, log)
    start = functools.partial(start_task, seen, "sum up the week")
    short_id = await killed_when_held(sandbox, bot, method, match, start)
    end = await ended_after_a_restart(seen, short_id, env, port, log)
    the_task_ended_once(end, short_id)


@ENDINGS
async def test_a_task_killed_as_it_ends_after_its_approval_reports_once(
    sandbox, model, tmp_path, method, match
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, {})
    write_then(model, Text(COMPLETE_ANSWER))
    seen, log = SimpleNamespace(sandbox=sandbox), tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    short_id = await start_task(seen, "record deploy 42")
    prompt = await prompt_in(sandbox, card_of(sandbox, short_id)["ts"])
    approve = functools.partial(sandbox.click, "alice", "general", prompt["ts"], APPROVE)
    await killed_when_held(sandbox, bot, method, match, approve)
    end = await ended_after_a_restart(seen, short_id, env, port, log)
    the_task_ended_once(end, short_id)
    assert ledger.read_text().splitlines() == ["deploy 42"]


SECOND_WORDS = "Now the second entry."


def asks_about(entry: str):
    """Whether a post is the prompt for the call that writes ``entry``."""
    return lambda args: asks_for_approval(args) and entry in str(args.get("blocks"))


async def test_a_second_prompt_killed_as_it_is_posted_shows_once_after_a_restart(
    sandbox, model, tmp_path
) -> None:
    env, ledger, port = ledger_environment(sandbox, model, tmp_path, {})
    first = ToolUse(WRITE_TOOL, {"entry": "deploy 42"}, id="toolu_write")
    second = ToolUse(WRITE_TOOL, {"entry": "deploy 43"}, id="toolu_write_again")
    model.script(
        ToolCalls([first], PAUSED_WORDS), ToolCalls([second], SECOND_WORDS), Text(COMPLETE_ANSWER)
    )
    log = tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> note 42 and 43")
    asked = await prompt_in(sandbox, posted["ts"])
    approve = functools.partial(sandbox.click, "alice", "general", asked["ts"], APPROVE)
    # The resumed answer asks for its second call; Slack posts the prompt, the bot dies.
    await killed_when_held(sandbox, bot, "chat.postMessage", asks_about("deploy 43"), approve)
    [cut] = prompts_in(sandbox, posted["ts"])
    async with serving(env, port, log):
        prompt = await sandbox.wait_for(
            lambda: [r for r in prompts_in(sandbox, posted["ts"]) if r["ts"] != cut["ts"]], 60
        )
        await sandbox.settle()
        assert prompts_in(sandbox, posted["ts"]) == prompt  # the cut prompt is gone
        await sandbox.click("alice", "general", prompt[0]["ts"], APPROVE)
        await sandbox.wait_for(
            lambda: [
                r for r in sandbox.replies("general", posted["ts"]) if r["text"] == COMPLETE_ANSWER
            ],
            60,
        )
        await sandbox.settle()
        assert await pending_approvals(env) == []
    texts = [r["text"] for r in sandbox.replies("general", posted["ts"], from_bot=True)]
    assert texts.count(SECOND_WORDS) == texts.count(COMPLETE_ANSWER) == 1, texts
    assert ledger.read_text().splitlines() == ["deploy 42", "deploy 43"]


RECORDED = "Recorded deploy 42."


async def test_a_resumed_answer_leaves_the_messages_of_another_answer_in_its_thread(
    sandbox, model, tmp_path
) -> None:
    """Two replicas on one database answer in one thread; the one killed mid-answer resumes
    while the other's prompt is posted but not yet recorded: the prompt stays, and works."""
    async with postgres_database() as db:
        env, ledger, _ = ledger_environment(
            sandbox, model, tmp_path, {"TEAMMATE_DATABASE_URL": db.url}
        )
        killed = {**env, "TEAMMATE_DATA_DIR": str(tmp_path / "a")}
        other = {**env, "TEAMMATE_EXECUTOR_ID": "bot-2", "TEAMMATE_DATA_DIR": str(tmp_path / "b")}
        model.script(
            Text(SLOW_ANSWER, delay=0.05),
            ToolCalls(
                [ToolUse(WRITE_TOOL, {"entry": "deploy 42"}, id="toolu_write")], PAUSED_WORDS
            ),
            Text(COMPLETE_ANSWER),
            Text(RECORDED),
        )
        posted, port = await mention_cut_by_sigkill(
            sandbox, killed, tmp_path / "a.log", "what changed?", lambda t: "token1 " in t
        )
        second = free_port()
        async with serving(other, second, tmp_path / "b.log"):
            sandbox.request_url = f"http://127.0.0.1:{second}/slack/events"
            mention = f"<@{sandbox.bot_user_id}> note deploy 42"
            with sandbox.holding("chat.postMessage", asks_for_approval) as held:
                sandbox.post_message("alice", "general", mention, posted["ts"])
                await held.seen(KILL_WITHIN)
                # The killed replica comes back and resumes its answer meanwhile.
                async with serving(killed, port, tmp_path / "a.log"):
                    await complete_answer(sandbox, posted["ts"], KILL_WITHIN)
            [prompt] = await sandbox.wait_for(lambda: prompts_in(sandbox, posted["ts"]), 10)
            await sandbox.click("alice", "general", prompt["ts"], APPROVE)
            await sandbox.wait_for(
                lambda: [
                    r for r in sandbox.replies("general", posted["ts"]) if RECORDED in r["text"]
                ],
                KILL_WITHIN,
            )
            await sandbox.settle()
    texts = [r["text"] for r in sandbox.replies("general", posted["ts"], from_bot=True)]
    assert not [t for t in texts if "token1 " in t]  # the half-written answer is gone
    assert [t for t in texts if t == COMPLETE_ANSWER] == [COMPLETE_ANSWER]
    assert [t for t in texts if t == PAUSED_WORDS] == [PAUSED_WORDS]
    asked = [c for c in sandbox.calls("chat.postMessage") if asks_for_approval(c["args"])]
    assert len(asked) == 1  # the prompt Slack had posted is the one that stayed
    assert ledger.read_text().splitlines() == ["deploy 42"]


def an_answer_post(args: dict[str, Any]) -> bool:
    return not asks_for_approval(args)


@pytest.mark.parametrize(
    ("disabled", "method", "match"),
    [
        (STREAM_METHODS, "chat.postMessage", an_answer_post),
        ([], "chat.startStream", lambda args: True),
    ],
    ids=["posted-whole", "streamed"],
)
async def test_a_resumed_part_killed_as_slack_creates_its_message_shows_once(
    sandbox, model, tmp_path, disabled, method, match
) -> None:
    """The resumed part's message, cut between Slack creating it and the claim recording it:
    posted whole (where Slack does not stream) it carries the claim's mark; a stream carries
    none until it is stopped, and is Teammate's unrecorded message after the prompt."""
    sandbox.configure(disabled_methods=disabled)
    env, _, port = ledger_environment(sandbox, model, tmp_path, {})
    # The run goes on while Slack keeps the call's answer back: the request after the tool may
    # have gone out unrecorded before the kill, and is then sent again.
    write_then(model, Text(COMPLETE_ANSWER), Text(COMPLETE_ANSWER))
    log = tmp_path / "bot.log"
    bot = await start_serve(env, port, log)
    posted = sandbox.post_message("alice", "general", f"<@{sandbox.bot_user_id}> note deploy 42")
    asked = await prompt_in(sandbox, posted["ts"])
    approve = functools.partial(sandbox.click, "alice", "general", asked["ts"], APPROVE)
    # The first such call after the click is the resumed part's message.
    await killed_when_held(sandbox, bot, method, match, approve)
    *_, cut = sandbox.replies("general", posted["ts"], from_bot=True)
    assert cut["streaming"] == (method == "chat.startStream")
    async with serving(env, port, log):
        await sandbox.wait_for(lambda: drawn_again(sandbox, posted["ts"], cut["ts"]), KILL_WITHIN)
        await sandbox.settle()
    texts = [r["text"] for r in sandbox.replies("general", posted["ts"], from_bot=True)]
    # The answer's first part, the decided prompt, the resumed part once (the cut one gone;
    # the write tool, cut as it ran, may have run twice: a step is at-least-once).
    assert len(texts) == 3 and PAUSED_WORDS in texts[0] and COMPLETE_ANSWER in texts[2], texts


def drawn_again(sandbox, ts: str, cut: str) -> bool:
    """Whether the thread holds the complete answer in a message other than the cut one."""
    replies = sandbox.replies("general", ts, from_bot=True)
    return any(COMPLETE_ANSWER in r["text"] and r["ts"] != cut for r in replies)
