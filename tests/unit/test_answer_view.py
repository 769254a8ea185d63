"""The answer view keeps every step change until Slack has it, even one that happens while
the call carrying the step's previous state is on its way."""

from __future__ import annotations

from bot.core.events import ToolFinished, ToolStarted
from bot.slack.render.view import AnswerView


async def test_a_step_that_finishes_while_its_start_is_being_sent_is_sent_again() -> None:
    view = AnswerView()
    view.take(ToolStarted("call-1", "web_search", {}, title="Searching the web"))
    chunks, ids = view.step_chunks()  # the writer's call goes out with these...
    assert [c["status"] for c in chunks] == ["in_progress"]
    view.take(ToolFinished("call-1", "web_search", "success", "2 pages"))  # ...meanwhile
    view.taken(ids)  # ...and returns
    assert view.has_step_updates
    chunks, ids = view.step_chunks()
    assert [(c["status"], c.get("output")) for c in chunks] == [("complete", "2 pages")]
    view.taken(ids)
    assert not view.has_step_updates
