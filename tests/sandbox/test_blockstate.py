"""Each interactive element reports a person's choice in Slack's field for it, both in the
`actions` entry and in `state.values`; a click on a message carries the message's state."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox, blockstate
from tests.sandbox.receiver import Receiver


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


OPTIONS = [option("a"), option("b")]


@pytest.mark.parametrize(
    ("element", "choice", "expected"),
    [
        ({"type": "static_select", "options": OPTIONS}, "b", {"selected_option": OPTIONS[1]}),
        (
            {"type": "static_select", "option_groups": [{"options": OPTIONS}]},
            "a",
            {"selected_option": OPTIONS[0]},
        ),
        (
            {"type": "multi_static_select", "options": OPTIONS},
            ["a", "b"],
            {"selected_options": OPTIONS},
        ),
        ({"type": "overflow", "options": OPTIONS}, "a", {"selected_option": OPTIONS[0]}),
        ({"type": "radio_buttons", "options": OPTIONS}, "b", {"selected_option": OPTIONS[1]}),
        ({"type": "checkboxes", "options": OPTIONS}, ["b"], {"selected_options": [OPTIONS[1]]}),
        ({"type": "users_select"}, "U0BOB", {"selected_user": "U0BOB"}),
        ({"type": "multi_users_select"}, ["U0BOB"], {"selected_users": ["U0BOB"]}),
        ({"type": "conversations_select"}, "C0GENERAL", {"selected_conversation": "C0GENERAL"}),
        ({"type": "multi_conversations_select"}, ["D0BOB"], {"selected_conversations": ["D0BOB"]}),
        ({"type": "channels_select"}, "C0RANDOM", {"selected_channel": "C0RANDOM"}),
        ({"type": "multi_channels_select"}, ["C0RANDOM"], {"selected_channels": ["C0RANDOM"]}),
        ({"type": "datepicker"}, "2027-01-05", {"selected_date": "2027-01-05"}),
        ({"type": "timepicker"}, "09:30", {"selected_time": "09:30"}),
        ({"type": "datetimepicker"}, "1767225600", {"selected_date_time": 1767225600}),
        ({"type": "plain_text_input"}, "hello", {"value": "hello"}),
        ({"type": "number_input", "is_decimal_allowed": False}, "3", {"value": "3"}),
        ({"type": "external_select"}, option("x"), {"selected_option": option("x")}),
    ],
)
def test_a_choice_in_slacks_field(element: dict, choice: Any, expected: dict) -> None:
    assert blockstate.selection(element, choice) == expected


def test_an_option_the_element_does_not_offer_is_refused() -> None:
    with pytest.raises(blockstate.ChoiceError):
        blockstate.selection({"type": "static_select", "options": OPTIONS}, "z")


def test_state_values_start_from_initial_values() -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": "row",
            "elements": [
                {"type": "button", "action_id": "go"},
                {"type": "overflow", "action_id": "more", "options": OPTIONS},
                {"type": "static_select", "action_id": "pick", "options": OPTIONS},
                {
                    "type": "checkboxes",
                    "action_id": "on",
                    "options": OPTIONS,
                    "initial_options": [OPTIONS[0]],
                },
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "When?"},
            "accessory": {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"},
        },
    ]
    values = blockstate.state_values(blocks, {"row": {"pick": "b"}})
    assert values == {
        "row": {
            "pick": {"type": "static_select", "selected_option": OPTIONS[1]},
            "on": {"type": "checkboxes", "selected_options": [OPTIONS[0]]},
        },
        "block-1": {"day": {"type": "datepicker", "selected_date": "2026-12-01"}},
    }


async def test_a_message_remembers_each_persons_choices(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": "row",
            "elements": [
                {"type": "radio_buttons", "action_id": "size", "options": OPTIONS},
                {"type": "channels_select", "action_id": "where"},
                {
                    "type": "button",
                    "action_id": "send",
                    "text": {"type": "plain_text", "text": "Send"},
                },
            ],
        }
    ]
    posted = await client.chat_postMessage(channel="C0GENERAL", text="Choose", blocks=blocks)
    await sandbox.settle()
    await sandbox.click("alice", "general", posted["ts"], "size", "b")
    await sandbox.click("alice", "general", posted["ts"], "where", "C0RANDOM")
    await sandbox.click("bob", "general", posted["ts"], "send")
    await sandbox.click("alice", "general", posted["ts"], "send")
    *_, bobs, alices = (r.body for r in receiver.requests)
    assert bobs["state"]["values"]["row"] == {
        "size": {"type": "radio_buttons", "selected_option": None},
        "where": {"type": "channels_select", "selected_channel": None},
    }
    assert alices["state"]["values"]["row"] == {
        "size": {"type": "radio_buttons", "selected_option": OPTIONS[1]},
        "where": {"type": "channels_select", "selected_channel": "C0RANDOM"},
    }
    assert alices["actions"][0]["type"] == "button"
