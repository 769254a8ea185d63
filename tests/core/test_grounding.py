"""A model that cannot call tools is given what it would have looked up: each grounder's text
goes into its prompt, its step and sources reach the stream, and a grounder that fails is left
out. Models that can call tools search for themselves and are given nothing."""

from __future__ import annotations

from dataclasses import replace

from pydantic_ai.models.function import FunctionModel

from bot.core.agent import AgentService
from bot.core.catalog import Catalog
from bot.core.conversation import Conversation
from bot.core.events import Done, Notice, Source, ToolFinished, ToolStarted
from bot.core.grounding import Grounding, KnowledgeGrounder
from bot.core.knowledge import KnowledgeStore
from bot.core.knowledge.document import Document, Section
from bot.core.prompts import Prompts
from tests.core.helpers import FAST_RETRIES, ScriptedProviders, ask, collect, terminal
from tests.core.test_agent_function import Recorder

NOTES = Grounding(
    name="knowledge",
    title="Looked in the team's knowledge",
    text="Notes: deploys are frozen on Fridays.",
    summary="1 section given to the model",
    notice="This model cannot search",
    sources=(Source("Deploy guide › Freeze", "https://d.example/deploy"),),
)


class Fixed:
    def __init__(self, grounding: Grounding | None = NOTES) -> None:
        self.grounding = grounding
        self.asked: list[str] = []

    async def ground(self, conversation: Conversation) -> Grounding | None:
        self.asked.append(conversation.turns[-1].text)
        return self.grounding


class Broken:
    async def ground(self, conversation: Conversation) -> Grounding | None:
        raise RuntimeError("database gone")


def service(
    catalog: Catalog, prompts: Prompts, key: str, model: Recorder, grounders
) -> AgentService:
    core = replace(FAST_RETRIES, model=key)
    providers = ScriptedProviders(core, {key: FunctionModel(stream_function=model)})
    return AgentService(core, catalog, prompts, providers=providers, grounders=grounders)


async def test_a_model_without_tools_gets_the_notes_step_and_sources(catalog, prompts) -> None:
    model = Recorder(["No deploys on Fridays."])
    grounder = Fixed()
    events = await collect(
        service(catalog, prompts, "local", model, [Broken(), grounder]), ask("Friday deploys?")
    )
    assert isinstance(terminal(events), Done) and grounder.asked == ["Friday deploys?"]
    [(messages, _)] = model.calls
    assert messages[-1].instructions.endswith("\n\nNotes: deploys are frozen on Fridays.")
    started = next(e for e in events if isinstance(e, ToolStarted))
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert (started.call_id, started.title) == ("grounding-knowledge", NOTES.title)
    assert finished.outcome == "success" and finished.sources == NOTES.sources
    assert Notice("This model cannot search") in events


async def test_a_model_with_tools_is_given_nothing(catalog, prompts) -> None:
    model = Recorder(["Let me look."])
    grounder = Fixed()
    events = await collect(service(catalog, prompts, "claude-haiku-4-5", model, [grounder]), ask())
    assert grounder.asked == [] and not any(isinstance(e, ToolStarted) for e in events)
    [(messages, _)] = model.calls
    assert "Notes:" not in (messages[-1].instructions or "")


async def test_knowledge_grounder_gives_short_notes_of_the_best_sections(db) -> None:
    store = KnowledgeStore(db)
    long_body = "Deploys are frozen on Fridays after 14:00. " + "More detail here. " * 60
    freeze = Document("Deploy guide", (Section("Freeze", long_body),), "https://d.example/deploy")
    await store.put("deploy.md", "h1", freeze)
    await store.put("help.md", "h2", Document("Help", (Section("Rollback", "Press undo."),)))
    grounding = await KnowledgeGrounder(store, chars=200).ground(
        ask("Are deploys frozen on Fridays?")
    )
    assert grounding is not None
    note = grounding.text.splitlines()[1]
    assert note.startswith("- Deploy guide › Freeze: Deploys are frozen on Fridays after 14:00.")
    assert len(note) < 260 and note.endswith("…")
    assert grounding.sources == (Source("Deploy guide › Freeze", "https://d.example/deploy"),)
    assert await KnowledgeGrounder(store).ground(ask("What is 2 + 2?")) is None
