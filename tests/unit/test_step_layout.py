"""The step layout is numbered: a change to the workflows and steps a durable run records
(what a run left by one build needs to find in the next) fails here until STEP_LAYOUT is
bumped, which changes the application version runs are recorded under."""

from __future__ import annotations

from dbos import DBOS

import bot.slack.durable_answers
import bot.slack.durable_resumes
import bot.slack.durable_tasks  # noqa: F401 - they register the product's workflows and steps
from bot.core.durable.engine import release
from bot.core.durable.layout import STEP_LAYOUT, fingerprint

LAYOUTS: dict[int, list[str]] = {
    1: [
        "step teammate.answer.pause",
        "step teammate.answer.start",
        "step teammate.model.request",
        "step teammate.resume.task",
        "step teammate.resume.task_end",
        "step teammate.task.end",
        "step teammate.tool.call",
        "workflow teammate.answer(request)",
        "workflow teammate.resume(run_id)",
        "workflow teammate.task(task_id)",
        "workflow teammate.task.turn(task_id, team_id)",
    ],
    2: [
        "step teammate.answer.pause",
        "step teammate.answer.start",
        "step teammate.ask.post",
        "step teammate.model.request",
        "step teammate.resume.task",
        "step teammate.resume.task_end",
        "step teammate.task.end",
        "step teammate.tool.call",
        "workflow teammate.answer(request)",
        "workflow teammate.resume(run_id)",
        "workflow teammate.task(task_id)",
        "workflow teammate.task.turn(task_id, team_id)",
    ],
    3: [
        "step teammate.answer.pause",
        "step teammate.answer.start",
        "step teammate.ask.post",
        "step teammate.model.request",
        "step teammate.resume.after",
        "step teammate.resume.task",
        "step teammate.resume.task_end",
        "step teammate.task.end",
        "step teammate.tool.call",
        "workflow teammate.answer(request)",
        "workflow teammate.resume(run_id)",
        "workflow teammate.task(task_id)",
        "workflow teammate.task.turn(task_id, team_id)",
    ],
}
"""Each layout's fingerprint, the current one last: add one, never edit one."""


def layout_problem(found: list[str], layout: int, recorded: dict[int, list[str]]) -> str | None:
    """Why ``found`` (the fingerprint) under ``layout`` does not match what was recorded."""
    if found == recorded.get(layout) and layout == max(recorded):
        return None
    return (
        f"the step layout changed (STEP_LAYOUT is {layout}, recorded {max(recorded)}): "
        "runs an earlier build left would replay against steps they did not record; "
        f"bump STEP_LAYOUT and record the new fingerprint: {found!r}"
    )


def test_the_layout_is_the_recorded_one() -> None:
    problem = layout_problem(fingerprint(), STEP_LAYOUT, LAYOUTS)
    assert problem is None, problem
    assert len({tuple(f) for f in LAYOUTS.values()}) == len(LAYOUTS), "two layouts are one"


def test_a_changed_layout_asks_for_a_bump() -> None:
    renamed = [line.replace("answer.start", "answer.begin") for line in LAYOUTS[1]]
    said = layout_problem(renamed, 1, LAYOUTS)
    assert said is not None and "bump STEP_LAYOUT and record the new fingerprint" in said
    # Bumped but not recorded, it still asks.
    assert layout_problem(LAYOUTS[1], 2, LAYOUTS) is not None


def test_the_fingerprint_sees_workflows_steps_and_inputs_not_docstrings() -> None:
    @DBOS.workflow(name="layoutcheck.flow")
    async def flow(first: str, second: int) -> None:
        """Any words."""

    @DBOS.step(name="layoutcheck.step")
    async def step() -> None:
        return None

    assert fingerprint("layoutcheck.") == [
        "step layoutcheck.step",
        "workflow layoutcheck.flow(first, second)",
    ]


def test_the_release_names_the_layout() -> None:
    assert release().endswith(f"+steps.{STEP_LAYOUT}")
