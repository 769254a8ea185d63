"""Block Kit pieces Teammate sends: the answer footer, feedback buttons, notes and help."""

from __future__ import annotations

from bot.core.events import Usage

FEEDBACK_GOOD = "feedback_good"
FEEDBACK_BAD = "feedback_bad"


def footer(model_label: str, usage: Usage | None, notices: list[str]) -> list[dict]:
    """A context line with the model and token counts, the notices, and feedback buttons."""
    parts = [model_label]
    if usage is not None and (usage.input_tokens or usage.output_tokens):  # some engines say none
        parts.append(f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens")
        if usage.cost_usd:
            parts.append(f"${usage.cost_usd:.4f}")
    elements = [{"type": "mrkdwn", "text": " · ".join(parts)}]
    elements += [{"type": "mrkdwn", "text": f"_{notice}_"} for notice in notices[:9]]
    return [
        {"type": "context", "elements": elements},
        {
            "type": "actions",
            "block_id": "feedback",
            "elements": [
                _button("👍 Helpful", FEEDBACK_GOOD, "good"),
                _button("👎 Not helpful", FEEDBACK_BAD, "bad"),
            ],
        },
    ]


def error_note(message: str, reference: str) -> str:
    return f"\n\n> :warning: {message} (ref `{reference}`)"


def _button(text: str, action_id: str, value: str) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
