"""An answer's model requests and its risky tool calls as recorded steps of its DBOS workflow.

The answer's agent run is the workflow's body; inside it each model request is a step named
``teammate.model.request`` and each call of a ``write`` or ``external`` tool (the registry's
risk; MCP servers' tools included) a step named ``teammate.tool.call``. A resumed workflow runs
the answer again from the top, but every step that completed before the crash returns what it
recorded instead of running: the model is not asked again and the tool does not run twice. Read
tools and plain function tools are not steps: they run again, which is harmless.

Why a wrapper of our own rather than pydantic-ai's ``DBOSDurability``: its model step drains the
stream inside the step, so the tokens reach only an ``event_stream_handler`` running in the
step, and the answer loop (``agent.iter`` driven in the caller's task with each node's stream,
mapped and drawn into Slack as it arrives) would have to be rebuilt around a handler with a
hand-off per token; it makes every MCP call a step, read ones too, and wants the MCP toolsets
at agent build while ours come per answer from the toolbox. Here:

- **A model request** (:class:`RecordedModel`, a pydantic-ai ``WrapperModel`` a capability puts
  around whichever model serves each attempt, the fallback included) starts its step in a task
  of its own. The step opens the real stream and *lends* it to the run, which reads it in its
  own task exactly as without durability: no copy and no queue per token, so the first words
  show as fast. When the run is done with the stream, the step closes it and returns its final
  ``ModelResponse``, which DBOS records before the run goes on (to a tool, say). On replay the
  step returns the recorded response without sending anything, and the run gets it as a
  ``CompletedStreamedResponse`` that replays its parts as events: the text of requests made
  before the crash is drawn again.
- **A failed attempt is recorded too**, as a value holding its exception and the exceptions
  that caused it (made picklable: one that cannot be rebuilt from a pickle is recorded as a
  ``RuntimeError`` with its words). The request policy decides on a retry or the fallback from
  the exception and its causes, so a resumed run decides the same way and its steps keep their
  numbers. An attempt the run abandons (cancelled: Stop, a stalled stream, shutdown) is not
  recorded, and nothing comes after it in that run: a resumed run sends it again.
- **A risky tool call** is a step around the approval gate and the tool, so what the gate
  decided is recorded with what the tool returned. DBOS numbers the steps of a workflow in the
  order they start, so risky tools are marked ``sequential`` (pydantic-ai runs each alone, in
  the order the model asked): two of them in one response always get the same numbers.
- **What an answer does once besides** (:meth:`DurableSteps.once`): reading what its first
  request is built from (``teammate.answer.start``: the thread, the memory's briefing), and
  storing the run that waits for approvals (``teammate.answer.pause``). A resumed answer builds
  its requests from what the first run read, whatever the thread holds now (a reply posted
  meanwhile, say), and names the paused run the prompts in the thread name.

DBOS pickles what a step returns; both steps return :class:`Outcome`, whose error pickles as
described. Step names are module constants, the same in every process. Outside a workflow (an
answer resumed by an approval click, durable answers off) nothing here acts; the module is
imported only when durable answers are on, so DBOS costs nothing otherwise.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from dbos import DBOS
from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import (
    CompletedStreamedResponse,
    Model,
    ModelRequestParameters,
    StreamedResponse,
)
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from bot.core.agent import Once
from bot.core.deps import AnswerDeps
from bot.core.events import Risk

MODEL_STEP = "teammate.model.request"
TOOL_STEP = "teammate.tool.call"
START_STEP = "teammate.answer.start"
PAUSE_STEP = "teammate.answer.pause"
T = TypeVar("T")
CAUSES_KEPT = 8
"""How far down an error's causes a recorded failure goes."""


def in_workflow() -> bool:
    """Whether this is a workflow's own code (not a step's, not outside any workflow)."""
    return DBOS.workflow_id is not None and DBOS.step_id is None


class Outcome:
    """What a step came to: its value, or the error it ended with (and that error's causes)."""

    __slots__ = ("value", "error")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def __getstate__(self) -> tuple[Any, list[BaseException]]:
        return self.value, _portable_chain(self.error)

    def __setstate__(self, state: tuple[Any, list[BaseException]]) -> None:
        self.value, chain = state
        for error, cause in zip(chain, chain[1:], strict=False):
            error.__cause__ = cause
        self.error = chain[0] if chain else None


def _portable_chain(error: BaseException | None) -> list[BaseException]:
    """``error`` and what caused it, each as it will come back from a pickle."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(chain) < CAUSES_KEPT:
        seen.add(id(error))
        chain.append(_picklable(error))
        error = error.__cause__ or error.__context__
    return chain


def _picklable(error: BaseException) -> BaseException:
    try:
        if type(pickle.loads(pickle.dumps(error))) is type(error):
            return error
    except Exception:  # noqa: BLE001, S110 - what does not survive a pickle is kept as words
        pass
    return RuntimeError(f"{type(error).__name__}: {error}")


# -- model requests --------------------------------------------------------------------------


class _LentStream:
    """The step's side of one streamed request: it opens the real stream, lends it to the run
    and, once the run gives it back (with what it ran into while reading, if anything), closes
    it and says what the request came to."""

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        loop = asyncio.get_running_loop()
        self._open_stream = open_stream
        self.opened: asyncio.Future[StreamedResponse] = loop.create_future()
        self.returned: asyncio.Future[Exception | None] = loop.create_future()

    async def run(self) -> Outcome:
        try:
            async with self._open_stream() as stream:
                self.opened.set_result(stream)
                error = await self.returned
                if error is not None:
                    raise error
            return Outcome(stream.get())
        except Exception as exc:  # noqa: BLE001 - a failed attempt is recorded as one
            return Outcome(error=exc)


@DBOS.step(name=MODEL_STEP)
async def _streamed_request(lent: _LentStream) -> Outcome:
    return await lent.run()


async def _settled(step: asyncio.Future[Outcome], *, cancel: bool) -> None:
    """Wait for ``step`` to end (cancelled first when ``cancel``), whatever it ends with."""
    if cancel:
        step.cancel()
    await asyncio.wait({step})


class RecordedModel(WrapperModel):
    """``wrapped`` whose streamed requests, in a workflow, are recorded steps (the answer's run
    streams every request; see the module's doc)."""

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        if not in_workflow():
            async with super().request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream:
                yield stream
            return
        lent = _LentStream(
            lambda: self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            )
        )
        # Calling the step takes its number, here in the run's order; it runs in its own task
        # so that it can hold the real stream open while the run reads it.
        step = asyncio.ensure_future(_streamed_request(lent))
        try:
            waits: set[asyncio.Future[Any]] = {step, lent.opened}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await _settled(step, cancel=True)
            raise
        if not lent.opened.done():  # replayed from the record, or failed before a stream
            response: ModelResponse = step.result().result()
            yield CompletedStreamedResponse(
                response, model_request_parameters=model_request_parameters, replay_events=True
            )
            return
        try:
            yield lent.opened.result()
        except Exception as error:
            lent.returned.set_result(error)
            await _settled(step, cancel=False)
            raise
        except BaseException:
            await _settled(step, cancel=True)
            raise
        lent.returned.set_result(None)
        # Shielded: a run cancelled now leaves the step to record the response it got.
        outcome = await asyncio.shield(step)
        outcome.result()


@dataclass
class _RecordedRequests(AbstractCapability[AnswerDeps]):
    """Puts :class:`RecordedModel` around the model that serves each attempt of a request."""

    def get_wrapper_model(self, model: Model) -> Model | None:
        return RecordedModel(model)


# -- tool calls ------------------------------------------------------------------------------


@DBOS.step(name=TOOL_STEP)
async def _tool_call(
    toolset: AbstractToolset[AnswerDeps],
    name: str,
    tool_args: dict[str, Any],
    ctx: RunContext[AnswerDeps],
    tool: ToolsetTool[AnswerDeps],
) -> Outcome:
    try:
        return Outcome(await toolset.call_tool(name, tool_args, ctx, tool))
    except Exception as exc:  # noqa: BLE001 - ApprovalRequired, ToolFailed: recorded, raised
        return Outcome(error=exc)


class RecordedCalls(WrapperToolset[AnswerDeps]):
    """``wrapped`` whose ``write`` and ``external`` tools, in a workflow, run one at a time,
    each call a recorded step."""

    def __init__(self, wrapped: AbstractToolset[AnswerDeps], risk: Callable[[str], Risk]) -> None:
        super().__init__(wrapped)
        self.risk = risk

    def _recorded(self, name: str) -> bool:
        return self.risk(name) != "read"

    async def get_tools(self, ctx: RunContext[AnswerDeps]) -> dict[str, ToolsetTool[AnswerDeps]]:
        tools = await super().get_tools(ctx)
        return {
            name: (
                replace(tool, tool_def=replace(tool.tool_def, sequential=True))
                if self._recorded(name)
                else tool
            )
            for name, tool in tools.items()
        }

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AnswerDeps],
        tool: ToolsetTool[AnswerDeps],
    ) -> Any:
        if not (self._recorded(name) and in_workflow()):
            return await super().call_tool(name, tool_args, ctx, tool)
        outcome = await _tool_call(self.wrapped, name, tool_args, ctx, tool)
        return outcome.result()


# -- what an answer does once besides -----------------------------------------------------------


async def _done(work: Callable[[], Awaitable[Any]]) -> Outcome:
    try:
        return Outcome(await work())
    except Exception as exc:  # noqa: BLE001 - a failure is recorded, and raised on replay too
        return Outcome(error=exc)


@DBOS.step(name=START_STEP)
async def _start(work: Callable[[], Awaitable[Any]]) -> Outcome:
    return await _done(work)


@DBOS.step(name=PAUSE_STEP)
async def _pause(work: Callable[[], Awaitable[Any]]) -> Outcome:
    return await _done(work)


_ONCE = {"start": _start, "pause": _pause}


# -- what the agent service is given -----------------------------------------------------------


class DurableSteps:
    """The agent service's step recorder (``AgentService.steps``): in a workflow, a run's model
    requests and risky tool calls become steps, and so does what an answer does once besides;
    elsewhere all is left as it is."""

    def __init__(self) -> None:
        self._requests = _RecordedRequests()

    def steps_of_run(
        self, toolsets: Sequence[AbstractToolset[AnswerDeps]], risk: Callable[[str], Risk]
    ) -> tuple[list[AbstractToolset[AnswerDeps]], list[AbstractCapability[AnswerDeps]]]:
        """The run's toolsets and the capabilities to add to it."""
        if not in_workflow():
            return list(toolsets), []
        return [RecordedCalls(toolset, risk) for toolset in toolsets], [self._requests]

    async def once(self, what: Once, work: Callable[[], Awaitable[T]]) -> T:
        """``work()``; in a workflow, the step ``what`` names (its record on a replay)."""
        if not in_workflow():
            return await work()
        outcome: Outcome = await _ONCE[what](work)
        result: T = outcome.result()
        return result

    def run_id(self) -> str:
        """The workflow's id in a workflow's own code, else empty."""
        return (DBOS.workflow_id or "") if in_workflow() else ""
