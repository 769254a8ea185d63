"""The approval prompt in the thread: which tool, what it risks, its arguments (shortened), and
Approve / Deny / Always allow this tool in this channel, addressed to the person who asked.
Once decided, the buttons are replaced by the decision: who, when, what."""

from __future__ import annotations

import json
import time
from typing import Any

APPROVE = "approval_approve"
DENY = "approval_deny"
ALWAYS = "approval_always"
ACTIONS = (APPROVE, DENY, ALWAYS)

_RISK_WORDS = {
    "write": "changes something (a *write* tool)",
    "external": "reaches outside Slack (an *external* tool)",
    "read": "only reads",
}
_ARG_CHARS = 200
_ARGS_SHOWN = 8
_ARGS_TOTAL = 2_400


def prompt(
    asker: str, tool: str, risk: str, args: dict[str, Any], approval_id: str, timeout: float
) -> tuple[str, list[dict[str, Any]]]:
    """The prompt's notification text and blocks; every button carries ``approval_id``."""
    question = f"<@{asker}>, may I run *{tool}*? It {_RISK_WORDS.get(risk, risk)}."
    return question, [
        _section(f"{question}\n{arguments(args)}"),
        {
            "type": "actions",
            "block_id": "approval",
            "elements": [
                _button("Approve", APPROVE, approval_id, "primary"),
                _button("Deny", DENY, approval_id, "danger"),
                _button("Always allow this tool in this channel", ALWAYS, approval_id),
            ],
        },
        _context(
            f"Only <@{asker}> or a workspace admin can decide. No decision within "
            f"{_duration(timeout)} counts as Deny."
        ),
    ]


def decided(
    tool: str,
    risk: str,
    args: dict[str, Any],
    outcome: str,
    by: str | None,
    at: float | None,
    always: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """The prompt once decided: the same description, and the decision where the buttons were."""
    when = _when(at or time.time())
    if outcome == "approved" and always:
        line = f"✅ Approved by <@{by}> {when}, and always allowed in this channel from now on"
    elif outcome == "approved":
        line = f"✅ Approved by <@{by}> {when}"
    elif outcome == "expired":
        line = f"⌛ Nobody decided in time: counted as Deny {when}"
    else:
        line = f"🚫 Denied by <@{by}> {when}"
    description = f"*{tool}* — it {_RISK_WORDS.get(risk, risk)}.\n{arguments(args)}"
    return line, [_section(description), _context(line)]


def not_yours(asker: str) -> str:
    return f"Only <@{asker}>, who asked, or a workspace admin can decide this. Nothing changed."


def already(outcome: str, by: str | None) -> str:
    who = f" by <@{by}>" if by else ""
    word = {"approved": "approved", "expired": "counted as Deny (no decision in time)"}.get(
        outcome, "denied"
    )
    return f"This was already decided: {word}{who}."


def arguments(args: dict[str, Any]) -> str:
    """The call's arguments, one per line, each value cut short; at most a few."""
    if not args:
        return "_No arguments._"
    lines = []
    for name, value in list(args.items())[:_ARGS_SHOWN]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"• `{name}`: {_shorten(' '.join(str(text).split()), _ARG_CHARS)}")
    if len(args) > _ARGS_SHOWN:
        lines.append(f"• … and {len(args) - _ARGS_SHOWN} more")
    return _shorten("\n".join(lines), _ARGS_TOTAL)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _when(at: float) -> str:
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))
    return f"<!date^{int(at)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{round(seconds / 60)} minutes"
    return f"{seconds:g} seconds"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button
