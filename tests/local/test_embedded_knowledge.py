"""The embedded model cannot call tools, so the best sections of the team's knowledge go into
its prompt before it answers: the thread shows that step, and the answer cites the sections it
was given (the footer says so). A question the knowledge does not cover gets no sources."""

from __future__ import annotations


async def test_the_answer_cites_the_knowledge_it_was_given(local_stack) -> None:
    posted = local_stack.mention("What happens when nobody clicks Approve or Deny?")
    [reply] = await local_stack.answer("general", posted["ts"], within=120)
    footer = str(reply["blocks"])
    assert "Sources: Approvals: tools that ask first › Deny and timeouts" in footer
    assert "This model cannot search, so " in footer
    assert "of the team's knowledge went into its prompt (listed under Sources)" in footer
    [step] = [c for c in reply["chunks"] if c.get("id") == "grounding-knowledge"]
    assert step["title"] == "Looked in the team's knowledge" and step["status"] == "complete"
    assert reply["text"].strip()


async def test_a_question_the_knowledge_does_not_cover_gets_no_sources(local_stack) -> None:
    posted = local_stack.mention("What is the capital of France?")
    [reply] = await local_stack.answer("general", posted["ts"], within=120)
    assert "paris" in reply["text"].lower()
    assert "Sources:" not in str(reply["blocks"])
