"""The answer view keeps every step change until Slack has it, even one that happens while
the call carrying the step's previous state is on its way; its Sources line names each address
once and leaves out the thread the answer is in."""

from __future__ import annotations

from bot.core.events import Source, ToolFinished, ToolStarted
from bot.slack.render.view import AnswerView, one_per_address

RUNBOOK = "https://wiki.example.com/runbooks/db-failover"


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


def test_one_per_address_keeps_the_first_title_of_each_address() -> None:
    sources = [
        Source("Runbook › Promoting the replica", RUNBOOK),
        Source("Deploys", "https://wiki.example.com/deploys"),
        Source("Runbook › After the failover", RUNBOOK),
        Source("Expenses › Travel"),
        Source("Expenses › Meals"),
        Source("Expenses › Travel"),
    ]
    assert one_per_address(sources) == [
        Source("Runbook › Promoting the replica", RUNBOOK),
        Source("Deploys", "https://wiki.example.com/deploys"),
        Source("Expenses › Travel"),
        Source("Expenses › Meals"),
    ]


async def test_the_sources_line_cites_each_address_once_and_not_the_thread_itself() -> None:
    view = AnswerView()
    thread = Source("Thread in #general", "https://x.slack.com/archives/C1/p1", cited=False)
    view.take(ToolFinished("call-1", "read_thread", "success", "2 messages", (thread,)))
    assert view.sources_line() == []
    first = Source("Runbook › Promoting the replica", RUNBOOK)
    view.take(ToolFinished("call-2", "search_knowledge", "success", "2 found", (first,)))
    later = (Source("Runbook › After the failover", RUNBOOK), first)
    view.take(ToolFinished("call-3", "search_knowledge", "success", "2 found", later))
    [line] = view.sources_line()
    assert line["elements"][0]["text"] == f"Sources: <{RUNBOOK}|Runbook › Promoting the replica>"
    chunk = view.steps["call-3"].task_chunk()
    assert chunk["sources"] == [
        {"type": "url", "url": RUNBOOK, "text": "Runbook › After the failover"}
    ]
    assert view.steps["call-1"].task_chunk()["sources"][0]["text"] == "Thread in #general"
