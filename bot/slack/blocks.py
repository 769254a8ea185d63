"""Block Kit pieces Teammate sends: the answer footer, feedback and reasoning buttons, notes,
and the reasoning modal."""

from __future__ import annotations

from bot.core import wording
from bot.core.events import Usage
from bot.slack.text import split_point

FEEDBACK_GOOD = "feedback_good"
FEEDBACK_BAD = "feedback_bad"
SHOW_REASONING = "show_reasoning"

MODAL_TEXT_LIMIT = 3_000
"""Characters in one section block's text."""
MODAL_BLOCKS = 100
REASONING_PAGES = MODAL_BLOCKS - 2
"""Text blocks of the reasoning modal: the rest of its 100 are the intro and the cut note."""


def footer(
    model_label: str,
    usage: Usage | None,
    notices: list[str],
    reasoning_id: str | None = None,
    feedback: bool = True,
) -> list[dict]:
    """A context line with the model and token counts, the notices, and feedback buttons
    (beside them "Show reasoning", when the answer's reasoning is kept as ``reasoning_id``).
    Without ``feedback`` (the part of an answer posted before it paused for approval: the
    answer is judged where it ends) only "Show reasoning" may follow the line."""
    parts = [model_label]
    if usage is not None and (usage.input_tokens or usage.output_tokens):  # some engines say none
        parts.append(f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens")
        if usage.cost_usd:
            parts.append(f"${usage.cost_usd:.4f}")
    elements = [{"type": "mrkdwn", "text": " · ".join(parts)}]
    elements += [{"type": "mrkdwn", "text": f"_{notice}_"} for notice in notices[:9]]
    rated = (
        [
            _button("👍 Helpful", FEEDBACK_GOOD, "good"),
            _button("👎 Not helpful", FEEDBACK_BAD, "bad"),
        ]
        if feedback
        else []
    )
    if reasoning_id:
        rated.append(_button(wording.SHOW_REASONING, SHOW_REASONING, reasoning_id))
    buttons = [_actions("feedback" if feedback else "reasoning", rated)] if rated else []
    return [{"type": "context", "elements": elements}, *buttons]


def reasoning_pages(text: str) -> tuple[list[str], bool]:
    """``text`` in pieces of at most a section block's length, cut at paragraph, line or word
    boundaries; as many as the modal holds, and whether some had to be left out. The pieces
    joined are the start of ``text``, so cutting what they join gives the same pieces."""
    pages: list[str] = []
    rest = text.strip()
    while rest and len(pages) < REASONING_PAGES:
        at = split_point(rest, MODAL_TEXT_LIMIT)
        pages.append(rest[:at])
        rest = rest[at:]
    return pages, bool(rest.strip())


def reasoning_modal(
    text: str | None, cut: bool = False, model: str = "", kept_days: float = 30.0
) -> dict:
    """The modal "Show reasoning" opens: the summary in plain-text sections (Markdown is left
    as written), with a note where it was cut; or that it is gone (``text`` None: it was
    cleared after ``kept_days``)."""
    blocks: list[dict] = []
    if text is None:
        blocks.append(_section(wording.reasoning_gone(kept_days)))
    else:
        pages, more = reasoning_pages(text)
        blocks.append({"type": "context", "elements": [_plain(wording.reasoning_intro(model))]})
        blocks += [_section(page) for page in pages if page.strip()]
        if cut or more:
            blocks.append({"type": "context", "elements": [_plain(wording.REASONING_CUT)]})
    return {
        "type": "modal",
        "title": _plain(wording.REASONING_TITLE),
        "close": _plain("Close"),
        "blocks": blocks,
    }


def error_note(message: str, reference: str) -> str:
    return f"\n\n> :warning: {message} (ref `{reference}`)"


def _actions(block_id: str, elements: list[dict]) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": elements}


def _button(text: str, action_id: str, value: str) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str) -> dict:
    return {"type": "section", "text": _plain(text)}
