"""Interactive Block Kit elements: what a person's choice looks like on the wire.

Slack reports a choice in the field that fits the element (a select's `selected_option`, a
user picker's `selected_user`, a date picker's `selected_date`, checkboxes'
`selected_options`, ...), both in the `actions` entry of a block_actions payload and in the
`state.values` of the message or view that holds the element. The people acting in the
sandbox give a plain choice (an option's value, a user id, a date, a list of those); this
module turns it into Slack's shape, and builds `state.values` from the elements' initial
values overlaid with the choices made so far.
"""

from __future__ import annotations

import time
from typing import Any

Choice = Any  # str | list[str] | dict (an option object) | int | None

# element type → (field in actions/state, what it holds)
SELECTION_FIELDS: dict[str, str] = {
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
}

# Where each field's initial value is given on the element.
INITIAL_FIELDS = {
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
    "value": "initial_value",
    "rich_text_value": "initial_value",
}

# Elements that keep a value in state.values (buttons and overflow menus do not).
STATEFUL = frozenset(SELECTION_FIELDS) - {"overflow"}
_LISTS = frozenset(
    {
        "selected_options",
        "selected_users",
        "selected_conversations",
        "selected_channels",
    }
)


class ChoiceError(ValueError):
    """A choice that the element does not offer."""


def block_id_of(block: dict[str, Any], index: int) -> str:
    """The block's id; Slack gives a block without one an id of its own."""
    block_id = block.get("block_id")
    return str(block_id) if block_id else f"block-{index}"


def elements_of(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements a block holds (actions, input, a section's accessory)."""
    kind = block.get("type")
    found: list[Any] = []
    if kind == "actions":
        found = list(block.get("elements") or [])
    elif kind == "input":
        found = [block.get("element")]
    if isinstance(block.get("accessory"), dict):
        found.append(block["accessory"])
    return [e for e in found if isinstance(e, dict)]


def find_element(blocks: list[dict[str, Any]] | None, action_id: str) -> dict[str, Any] | None:
    """{element, block_id, block} of the element with this action_id, or None."""
    for index, block in enumerate(blocks or []):
        if not isinstance(block, dict):
            continue
        for element in elements_of(block):
            if element.get("action_id") == action_id:
                return {"element": element, "block_id": block_id_of(block, index), "block": block}
    return None


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Every option an element offers, option groups flattened."""
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def _option(element: dict[str, Any], choice: Choice) -> dict[str, Any]:
    if isinstance(choice, dict):
        if element.get("type", "").endswith("external_select"):
            return choice
        choice = choice.get("value")
    if element.get("type", "").endswith("external_select"):
        text = str(choice)
        return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": text}
    for option in options_of(element):
        if option.get("value") == choice:
            return option
    raise ChoiceError(f"{element.get('action_id')!r} has no option {choice!r}")


def _as_list(choice: Choice) -> list[Any]:
    if choice is None or choice == "":
        return []
    return list(choice) if isinstance(choice, (list, tuple)) else [choice]


def selection(element: dict[str, Any], choice: Choice) -> dict[str, Any]:
    """{field: value} for a choice on this element, as Slack reports it."""
    kind = str(element.get("type", ""))
    name = SELECTION_FIELDS.get(kind)
    if name is None:
        return {}
    if name == "selected_option":
        return {name: _option(element, choice) if choice not in (None, "") else None}
    if name == "selected_options":
        return {name: [_option(element, c) for c in _as_list(choice)]}
    if name in _LISTS:
        return {name: [str(c) for c in _as_list(choice)]}
    if name == "selected_date_time":
        return {name: int(choice) if choice not in (None, "") else None}
    if name == "rich_text_value":
        return {name: _rich_text(choice)}
    if choice in (None, ""):
        return {name: None}
    return {name: str(choice)}


def _rich_text(choice: Choice) -> dict[str, Any] | None:
    if isinstance(choice, dict) or choice is None:
        return choice
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": str(choice)}]}
    return {"type": "rich_text", "elements": [section]}


def initial(element: dict[str, Any]) -> dict[str, Any]:
    """The element's selection before anyone chose (its initial_* value, or nothing)."""
    kind = str(element.get("type", ""))
    name = SELECTION_FIELDS.get(kind)
    if name is None:
        return {}
    value = element.get(INITIAL_FIELDS[name])
    if value is None:
        return {name: [] if name in _LISTS else None}
    return {name: value}


def action_entry(
    found: dict[str, Any], choice: Choice, *, clicked_value: str | None = None
) -> dict[str, Any]:
    """The entry in `actions` for a person acting on the found element."""
    element = found["element"]
    kind = str(element.get("type", "button"))
    action: dict[str, Any] = {
        "action_id": element.get("action_id"),
        "block_id": found["block_id"],
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        if isinstance(element.get("text"), dict):
            action["text"] = element["text"]
        chosen = clicked_value if clicked_value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if element.get("style"):
            action["style"] = element["style"]
        return action
    action.update(selection(element, choice))
    if isinstance(element.get("placeholder"), dict):
        action["placeholder"] = element["placeholder"]
    initial_field = INITIAL_FIELDS.get(SELECTION_FIELDS.get(kind, ""), "")
    if initial_field and element.get(initial_field) is not None:
        action[initial_field] = element[initial_field]
    return action


Chosen = dict[str, dict[str, Choice]]  # block_id → action_id → the person's choice


def state_values(blocks: list[dict[str, Any]] | None, chosen: Chosen) -> dict[str, Any]:
    """`state.values` for these blocks: every stateful element's current selection."""
    values: dict[str, dict[str, Any]] = {}
    for index, block in enumerate(blocks or []):
        if not isinstance(block, dict):
            continue
        block_id = block_id_of(block, index)
        for element in elements_of(block):
            kind = str(element.get("type", ""))
            action_id = element.get("action_id")
            if kind not in STATEFUL or not action_id:
                continue
            made = chosen.get(block_id, {})
            entry: dict[str, Any] = {"type": kind}
            if action_id in made:
                entry.update(selection(element, made[action_id]))
            else:
                entry.update(initial(element))
            values.setdefault(block_id, {})[str(action_id)] = entry
    return values


def missing_inputs(blocks: list[dict[str, Any]] | None, chosen: Chosen) -> dict[str, str]:
    """block_id → "This field is required" for required input blocks left empty, as the
    Slack client refuses to submit them."""
    values = state_values(blocks, chosen)
    missing: dict[str, str] = {}
    for index, block in enumerate(blocks or []):
        if not isinstance(block, dict) or block.get("type") != "input" or block.get("optional"):
            continue
        block_id = block_id_of(block, index)
        for entry in values.get(block_id, {}).values():
            picked = [v for k, v in entry.items() if k != "type"]
            if not picked or all(v in (None, "", []) for v in picked):
                missing[block_id] = "This field is required"
    return missing
