"""A task's working notes: its run is told where to keep them, writes them with the memory
tool, and a run that starts again for the same task gets them in its instructions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, DeltaToolCall

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.conversation import Conversation, Turn
from bot.core.events import Done, Failed
from bot.core.memory import ChannelMemory, owner_of
from bot.core.prompts import Prompts
from bot.core.store import Database
from bot.core.tasks.live import LiveTask
from bot.core.tasks.model import Budget, Task
from bot.core.tasks.notes import notes_path
from bot.core.tools.registry import ToolRegistry
from bot.testkit.databases import fresh_sqlite
from tests.core.helpers import collect, scope, scripted_service, terminal

NOTES = "Done: read the incident log (2 incidents).\nNext: compare with last week."


class Worker:
    """The model: on a first run it writes its notes, then breaks off (the crash); on any
    later run it answers. It records the instructions of every request."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.instructions: list[str] = []

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        self.instructions.append(info.instructions or "")
        answered = sum(isinstance(m, ModelResponse) for m in messages)
        resumed = "were interrupted" in (info.instructions or "")
        if not resumed and answered == 0:
            args = {"command": "create", "path": self.path, "file_text": NOTES}
            yield {0: DeltaToolCall("memory", json.dumps(args), tool_call_id="call_notes")}
        elif not resumed:
            raise ConnectionResetError("the process died")
        else:
            yield "Compared with last week: fewer incidents."


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    async with fresh_sqlite(tmp_path) as database:
        yield database


def task_service(
    catalog: Catalog, prompts: Prompts, db: Database, worker: Worker
) -> tuple[AgentService, ChannelMemory]:
    memory = ChannelMemory(db, prompts)
    toolbox = ToolRegistry()
    toolbox.add(memory.tool())
    service = scripted_service(catalog, prompts, worker, toolbox=toolbox, memory=memory)
    return service, memory


def the_task() -> Task:
    where = scope()
    return Task(
        id="t-1",
        short_id="abc123",
        team_id=where.team_id,
        channel=where.channel_id,
        requester=where.user_id,
        goal="Summarise this week's incidents",
        budget=Budget(minutes=30, tokens=200_000),
        state="running",
        card_ts=where.thread_ts,
    )


def goal() -> Conversation:
    question = Turn("user", "Summarise this week's incidents", "Dana")
    return Conversation(turns=[question], scope=scope())


async def test_a_resumed_task_run_gets_the_notes_its_first_run_kept(catalog, prompts, db) -> None:
    task = the_task()
    path = notes_path(task.short_id)
    assert path == "/memories/tasks/abc123/notes.md"
    worker = Worker(path)
    service, memory = task_service(catalog, prompts, db, worker)
    service.tasks.add(LiveTask(task))
    try:
        first = await collect(service, goal())
        assert isinstance(terminal(first), Failed)  # cut off after writing its notes
        told = worker.instructions[0]
        assert f"Keep working notes for this task with the memory tool in {path}" in told
        assert "were interrupted" not in told
        kept = await memory.store.get(owner_of(scope()), path)
        assert kept is not None and kept.text == NOTES

        worker.instructions.clear()
        again = await collect(service, goal())  # the same task, started again
        assert isinstance(terminal(again), Done)
        told = worker.instructions[0]
        assert f"Your notes from then ({path}):\n<notes>\n{NOTES}\n</notes>" in told
        assert "do not redo what they say is done" in told
    finally:
        await service.aclose()


async def test_an_answer_that_is_no_task_is_told_nothing_of_notes(catalog, prompts, db) -> None:
    worker = Worker(notes_path("abc123"))
    service, _ = task_service(catalog, prompts, db, worker)
    try:
        await collect(service, goal())
        assert worker.instructions and not any("working notes" in i for i in worker.instructions)
    finally:
        await service.aclose()
