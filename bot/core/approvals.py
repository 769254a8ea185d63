"""Approvals: a tool that writes or reaches outside runs only after a person's click.

The policy: a ``read`` tool runs at once; a ``write`` or ``external`` one runs at once only when
its call was approved (pydantic-ai's ``ctx.tool_call_approved``, set from the decisions this
module hands the resumed run) or when someone chose "Always allow" for that tool in that
channel. Any other call makes :class:`ApprovalGate` raise pydantic-ai's ``ApprovalRequired``:
the tool does not run, and the run ends with ``DeferredToolRequests`` instead of an answer.

The paused run is plain data (its messages as JSON through ``ModelMessagesTypeAdapter``, its
scope, the model, the pending calls), stored by :class:`Approvals`, so a decision taken in any
process — after a restart too — resumes it. A decision is one conditional update (pending →
decided) and the resume another (paused → resumed), so whatever clicks or timeouts race, each
call is decided once and the run goes on once: an approved tool runs once. Nothing the model
reads (a tool result, a web page, someone's message) can approve anything: only a decision
stored here does, and only a click by the asker or an admin (checked on the Slack side) or the
timeout makes one.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic_ai import (
    DeferredToolRequests,
    DeferredToolResults,
    RunContext,
    ToolApproved,
    ToolDenied,
)
from pydantic_ai.exceptions import ApprovalRequired, ToolFailed
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter
from pydantic_ai.toolsets import AbstractToolset, WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

from bot.core.conversation import Conversation, Scope
from bot.core.deps import AnswerDeps
from bot.core.events import ApprovalNeeded, Risk
from bot.core.store.approvals import PAUSED, PENDING, ApprovalStore
from bot.core.store.schema import ApprovalRow, PausedRunRow

Outcome = Literal["approved", "denied", "expired"]
DEFAULT_TIMEOUT = 600.0
NO_APPROVALS = (
    "This tool needs a person's approval before it runs, and approvals are not available "
    "here, so it did not run. Answer without it."
)


def new_id() -> str:
    return secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Approval:
    """One tool call's request for a decision, and the decision once made."""

    id: str
    run_id: str
    tool: str
    risk: Risk
    args: dict[str, Any]
    team_id: str
    channel: str
    thread_ts: str
    asker: str
    state: str
    expires_at: float
    decided_by: str | None = None
    decided_at: float | None = None
    always: bool = False
    prompt_ts: str | None = None

    @property
    def pending(self) -> bool:
        return self.state == PENDING


@dataclass(slots=True)
class PausedRun:
    """An answer waiting for decisions: everything needed to go on with it, as data."""

    id: str
    scope: Scope
    model: str
    deep: bool
    instructions: str
    messages: list[ModelMessage]
    decisions: dict[str, tuple[Outcome, str | None]] = field(default_factory=dict)
    """tool_call_id → (outcome, who decided); filled when the run is taken for resuming."""
    asked_at: float = 0.0
    """When its last prompt was posted (Slack's clock, as a ts; the pause's time when no
    prompt's ts was stored): what the part after the decisions posts comes after it."""

    def conversation(self) -> Conversation:
        return Conversation(turns=[], scope=self.scope, model=self.model, deep=self.deep)


@dataclass(frozen=True, slots=True)
class Decided:
    """What one decision did: ``taken`` is False when the call was decided already (its
    ``approval`` says how); ``resume`` is the run, for the one caller that must resume it."""

    taken: bool
    approval: Approval
    resume: PausedRun | None = None


class Approvals:
    """The approval policy, the paused runs and the decisions, over an :class:`ApprovalStore`.

    ``timeout`` is how long a call waits for a decision (``TEAMMATE_APPROVAL_TIMEOUT``); after
    it the call counts as denied.
    """

    def __init__(self, store: ApprovalStore, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.store = store
        self.timeout = timeout

    # -- the run's side ------------------------------------------------------------------------

    async def allowed(self, channel: str, tool: str) -> bool:
        """Whether someone chose to always allow ``tool`` in ``channel``."""
        return await self.store.is_allowed(channel, tool)

    async def pause(
        self,
        conversation: Conversation,
        model: str,
        instructions: str,
        messages: list[ModelMessage],
        requests: DeferredToolRequests,
        risk: Callable[[str], Risk],
        origin: str = "",
    ) -> tuple[str, list[ApprovalNeeded]]:
        """Store the paused run and its calls (``origin``: the durable run that paused); the
        run's id and an event per call."""
        scope, now = conversation.scope, time.time()
        run = PausedRunRow(
            id=new_id(),
            team_id=scope.team_id,
            channel=scope.channel_id,
            thread_ts=scope.thread_ts,
            user_id=scope.user_id,
            scope=json.dumps(asdict(scope)),
            model=model,
            deep=conversation.deep,
            instructions=instructions,
            messages=ModelMessagesTypeAdapter.dump_json(messages).decode(),
            state=PAUSED,
            created_at=now,
            origin=origin,
        )
        rows, events = [], []
        for call in requests.approvals:
            tool_risk = (requests.metadata.get(call.tool_call_id) or {}).get("risk")
            args = call.args_as_dict()
            row = ApprovalRow(
                id=new_id(),
                run_id=run.id,
                tool_call_id=call.tool_call_id,
                tool=call.tool_name,
                risk=tool_risk or risk(call.tool_name),
                args=json.dumps(args, ensure_ascii=False, default=str),
                team_id=scope.team_id,
                channel=scope.channel_id,
                thread_ts=scope.thread_ts,
                asker=scope.user_id,
                state=PENDING,
                always=False,
                created_at=now,
                expires_at=now + self.timeout,
            )
            rows.append(row)
            events.append(
                ApprovalNeeded(
                    call.tool_call_id,
                    row.tool,
                    args,
                    _risk(row.risk),
                    approval_id=row.id,
                    expires_at=row.expires_at,
                )
            )
        await self.store.add(run, rows)
        return run.id, events

    @staticmethod
    def results(run: PausedRun) -> DeferredToolResults:
        """What the resumed run is told of each call: approved, or denied with the reason the
        model reads (it answers without the tool)."""
        approvals: dict[str, bool | ToolApproved | ToolDenied] = {}
        for call_id, (outcome, who) in run.decisions.items():
            if outcome == "approved":
                approvals[call_id] = True
            elif outcome == "expired":
                approvals[call_id] = ToolDenied(
                    "Nobody approved this tool call in time, so it did not run. Answer without "
                    "it, and say it was not approved."
                )
            else:
                by = f" (user {who})" if who else ""
                approvals[call_id] = ToolDenied(
                    f"The person asked{by} denied this tool call, so it did not run. Answer "
                    "without it."
                )
        return DeferredToolResults(approvals=approvals)

    # -- the deciders' side --------------------------------------------------------------------

    async def approval(self, approval_id: str) -> Approval | None:
        row = await self.store.approval(approval_id)
        return _approval(row) if row is not None else None

    async def decide(
        self, approval_id: str, outcome: Outcome, by: str | None, always: bool = False
    ) -> Decided | None:
        """Decide one call (None when there is no such call). "Always allow" approves it and
        lets the tool run without asking in that channel from now on."""
        taken = await self.store.decide(approval_id, outcome, by, always=always)
        row = await self.store.approval(approval_id)
        if row is None:
            return None
        if taken and always and outcome == "approved":
            await self.store.allow(row.team_id, row.channel, row.tool, by or "")
        resume = await self._take(row.run_id) if taken else None
        return Decided(taken, _approval(row), resume)

    async def allowed_meanwhile(self, channel: str, tool: str, by: str | None) -> list[Decided]:
        """Approve every call of ``tool`` still waiting in ``channel``, now that ``by`` chose
        to always allow it there: it would run without asking if it were called now (an
        answer a crash cut, its refusal recorded, would otherwise ask again on its replay)."""
        done = []
        for row in await self.store.waiting_in(channel, tool):
            decided = await self.decide(row.id, "approved", by, always=True)
            if decided is not None and decided.taken:
                done.append(decided)
        return done

    async def set_prompt(self, approval_id: str, prompt_ts: str) -> None:
        await self.store.set_prompt(approval_id, prompt_ts)

    async def expire_due(self) -> list[Decided]:
        """Count every call past its time as denied; what each such decision did."""
        done = []
        for row in await self.store.due():
            decided = await self.decide(row.id, "expired", None)
            if decided is not None and decided.taken:
                done.append(decided)
        return done

    async def _take(self, run_id: str) -> PausedRun | None:
        if not await self.store.take_for_resume(run_id):
            return None
        return await self.taken(run_id)

    async def taken(self, run_id: str) -> PausedRun | None:
        """The run as it was taken for resuming, with its decisions: what a durable resume
        started again after a crash goes on from (it was taken once, before the crash)."""
        row = await self.store.run(run_id)
        if row is None:
            return None
        calls = await self.store.approvals_of(run_id)
        prompts = [float(c.prompt_ts) for c in calls if c.prompt_ts]
        return PausedRun(
            id=row.id,
            scope=Scope(**json.loads(row.scope)),
            model=row.model,
            deep=row.deep,
            instructions=row.instructions,
            messages=ModelMessagesTypeAdapter.validate_json(row.messages),
            decisions={c.tool_call_id: (_outcome(c.state), c.decided_by) for c in calls},
            asked_at=max(prompts, default=row.created_at),
        )

    async def origin(self, run_id: str) -> str:
        """The durable run that paused ``run_id`` (empty when none, or no such run)."""
        row = await self.store.run(run_id)
        return (row.origin or "") if row is not None else ""


class ApprovalGate(WrapperToolset[AnswerDeps]):
    """Lets a call through only when the policy allows it; otherwise asks for approval."""

    def __init__(
        self,
        wrapped: AbstractToolset[AnswerDeps],
        risk: Callable[[str], Risk],
        approvals: Approvals | None,
    ) -> None:
        super().__init__(wrapped)
        self.risk = risk
        self.approvals = approvals

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AnswerDeps],
        tool: ToolsetTool[AnswerDeps],
    ) -> Any:
        risk = self.risk(name)
        if risk != "read" and not ctx.tool_call_approved:
            if self.approvals is None:
                raise ToolFailed(NO_APPROVALS)
            if not await self.approvals.allowed(ctx.deps.scope.channel_id, name):
                raise ApprovalRequired(metadata={"risk": risk})
        return await self.wrapped.call_tool(name, tool_args, ctx, tool)


def gated(
    toolsets: Sequence[AbstractToolset[AnswerDeps]],
    risk: Callable[[str], Risk],
    approvals: Approvals | None,
) -> list[AbstractToolset[AnswerDeps]]:
    """``toolsets``, each behind the approval policy."""
    return [ApprovalGate(toolset, risk, approvals) for toolset in toolsets]


def _approval(row: ApprovalRow) -> Approval:
    return Approval(
        id=row.id,
        run_id=row.run_id,
        tool=row.tool,
        risk=_risk(row.risk),
        args=json.loads(row.args or "{}"),
        team_id=row.team_id,
        channel=row.channel,
        thread_ts=row.thread_ts,
        asker=row.asker,
        state=row.state,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        always=row.always,
        prompt_ts=row.prompt_ts,
    )


def _risk(value: str) -> Risk:
    return value if value in ("read", "write") else "external"  # type: ignore[return-value]


def _outcome(state: str) -> Outcome:
    return state if state in ("approved", "expired") else "denied"  # type: ignore[return-value]
