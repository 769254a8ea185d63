"""Block Kit for ``/teammate memory``: the notes shown to the person who asked, the edit modal,
and the clear-all confirmation.

The list is an ephemeral message: each note with Edit and Clear, and Clear all (which first
asks again). Slack's text box holds at most 3,000 characters, so a longer note is shown cut and
has no Edit (ask Teammate to change it, or clear it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.memory import Note

EDIT = "memory_edit"
CLEAR = "memory_clear"
CLEAR_ALL = "memory_clear_all"
CLEAR_ALL_CONFIRMED = "memory_clear_all_confirmed"
BACK = "memory_back"
EDIT_VIEW = "memory_edit_note"
NOTE_BLOCK, NOTE_INPUT = "note", "text"

INPUT_MAX = 3_000
"""Slack's limit on a plain-text input, and so on a note edited in the modal."""
SHOWN_NOTES = 20
"""Each note takes two blocks; a message holds 50."""
EXCERPT_CHARS = 600


@dataclass(frozen=True, slots=True)
class EditTarget:
    """What the edit modal carries in its private_metadata: which note, where, and the list
    message to redraw once it is saved."""

    team_id: str
    channel: str
    path: str
    response_url: str = ""

    def dump(self) -> str:
        return json.dumps(
            {"t": self.team_id, "c": self.channel, "p": self.path, "r": self.response_url}
        )

    @classmethod
    def load(cls, metadata: str) -> EditTarget:
        data = json.loads(metadata or "{}")
        return cls(data.get("t", ""), data.get("c", ""), data.get("p", ""), data.get("r", ""))


def notes_blocks(place: str, notes: list[Note]) -> list[dict]:
    """The memory of ``place`` ("#general", "your direct messages"), note by note."""
    if not notes:
        return [
            _section(
                f"*Memory of {place}*: no notes yet. Say “remember for this channel: …” to "
                "keep one, or ask me to note something."
            )
        ]
    count = f"{len(notes)} note" + ("s" if len(notes) != 1 else "")
    blocks: list[dict] = [_section(f"*Memory of {place}* — {count}, shared by all its threads.")]
    for note in notes[:SHOWN_NOTES]:
        blocks.append(_section(_describe(note)))
        buttons = [_button("Edit", EDIT, note.path)] if len(note.text) <= INPUT_MAX else []
        buttons.append(_button("Clear", CLEAR, note.path))
        blocks.append(
            {"type": "actions", "block_id": f"note:{note.path}"[:255], "elements": buttons}
        )
    if len(notes) > SHOWN_NOTES:
        blocks.append(_context(f"…and {len(notes) - SHOWN_NOTES} more notes not shown here."))
    blocks.append(
        {
            "type": "actions",
            "block_id": "memory_all",
            "elements": [_button("Clear all", CLEAR_ALL, "all", style="danger")],
        }
    )
    return blocks


def confirm_clear_blocks(place: str, count: int) -> list[dict]:
    """Clear all, asked again: nothing is deleted until this is confirmed."""
    notes = f"{count} note" + ("s" if count != 1 else "")
    return [
        _section(f"*Clear all {notes} of {place}'s memory?* Every thread here loses them."),
        {
            "type": "actions",
            "block_id": "memory_confirm",
            "elements": [
                _button("Clear all notes", CLEAR_ALL_CONFIRMED, "all", style="danger"),
                _button("Cancel", BACK, "back"),
            ],
        },
    ]


def edit_modal(target: EditTarget, note: Note) -> dict:
    """The modal that edits one note; submitting saves it."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": target.dump(),
        "title": {"type": "plain_text", "text": "Edit note"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _context(f"`{note.path}`"),
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_INPUT,
                    "multiline": True,
                    "initial_value": note.text,
                    "max_length": INPUT_MAX,
                },
            },
        ],
    }


def edited_text(view: dict) -> str:
    """The note's text as the edit modal was submitted."""
    values = (view.get("state") or {}).get("values") or {}
    return str((values.get(NOTE_BLOCK) or {}).get(NOTE_INPUT, {}).get("value") or "")


def plain(text: str) -> list[dict]:
    return [_section(text)]


def _describe(note: Note) -> str:
    text = note.text.strip()
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + "…"
    quoted = "\n".join(f">{line}" for line in _escape(excerpt).split("\n")) or ">(empty)"
    when = datetime.fromtimestamp(note.updated_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = f" by <@{note.updated_by}>" if note.updated_by else ""
    return f"*{_escape(note.path)}* · {when}{who}\n{quoted}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button
