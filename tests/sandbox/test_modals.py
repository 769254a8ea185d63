"""Modals and the Home tab through the Web API and the control API: trigger_ids, the view
stack, hashes, what an ack's response_action does, and clicks in views."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import Sandbox
from bot.sandbox.modals import Triggers
from tests.sandbox.receiver import Received, Receiver, Reply


def modal(title: str = "Settings", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


async def trigger(sandbox: Sandbox, user: str = "alice") -> str:
    ran = await sandbox.run_command(user, "general", "/settings")
    return ran["trigger_id"]


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response["error"]


async def test_a_trigger_opens_one_modal_within_three_seconds(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    now = [100.0]
    sandbox.views.triggers = Triggers(clock=lambda: now[0])
    first = await trigger(sandbox)
    opened = await client.views_open(trigger_id=first, view=modal())
    view = opened["view"]
    assert view["id"].startswith("V") and view["root_view_id"] == view["id"]
    assert view["state"] == {
        "values": {"name": {"value": {"type": "plain_text_input", "value": None}}}
    }
    assert sandbox.modal("alice")["id"] == view["id"]
    assert await error_of(client.views_open(trigger_id=first, view=modal())) == (
        "exchanged_trigger_id"
    )
    late = await trigger(sandbox)
    now[0] += 3.5
    assert await error_of(client.views_open(trigger_id=late, view=modal())) == (
        "expired_trigger_id"
    )
    assert await error_of(client.views_open(trigger_id="1.2.made-up", view=modal())) == (
        "invalid_arguments"
    )


async def test_a_modal_slack_would_refuse_is_refused(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    no_submit = modal()
    del no_submit["submit"]  # a modal with inputs needs a submit button
    long_title = modal("A title far longer than Slack allows")
    for view in (no_submit, long_title, {"type": "home", "blocks": []}):
        assert await error_of(client.views_open(trigger_id=await trigger(sandbox), view=view)) == (
            "invalid_arguments"
        )


async def test_push_update_and_hash(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    root = (await client.views_open(trigger_id=await trigger(sandbox), view=modal()))["view"]
    pushed = (await client.views_push(trigger_id=await trigger(sandbox), view=modal("Step 2")))[
        "view"
    ]
    assert pushed["previous_view_id"] == root["id"] and pushed["root_view_id"] == root["id"]
    await client.views_push(trigger_id=await trigger(sandbox), view=modal("Step 3"))
    assert await error_of(
        client.views_push(trigger_id=await trigger(sandbox), view=modal("Step 4"))
    ) == ("push_limit_reached")
    assert [v["title"]["text"] for v in sandbox.modals("alice")] == ["Settings", "Step 2", "Step 3"]

    updated = await client.views_update(
        view_id=root["id"], hash=root["hash"], view=modal("Settings (saved)")
    )
    assert updated["view"]["id"] == root["id"] and updated["view"]["hash"] != root["hash"]
    stale = client.views_update(view_id=root["id"], hash=root["hash"], view=modal("Again"))
    assert await error_of(stale) == "hash_conflict"
    assert await error_of(client.views_update(view_id="V0NOPE", view=modal())) == "not_found"


async def test_update_by_external_id_and_a_home_tab(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    await client.views_open(trigger_id=await trigger(sandbox), view=modal(external_id="job-1"))
    await client.views_update(external_id="job-1", view=modal("Job done", external_id="job-1"))
    assert sandbox.modal("alice")["title"]["text"] == "Job done"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    published = (await client.views_publish(user_id="U0BOB", view=home))["view"]
    again = (await client.views_publish(user_id="U0BOB", view=home))["view"]
    assert again["id"] == published["id"]
    home["blocks"][0]["text"]["text"] = "Updated"
    await client.views_update(view_id=published["id"], view=home)
    assert sandbox.home("bob")["blocks"][0]["text"]["text"] == "Updated"


def answering(body: dict[str, Any]) -> Any:
    def answer(got: Received) -> Reply:
        if got.body.get("type") == "view_submission":
            return Reply(body=json.dumps(body), content_type="application/json")
        return Reply()

    return answer


@pytest.mark.parametrize(
    ("response", "titles"),
    [
        ({"response_action": "update", "view": modal("Updated")}, ["Settings", "Updated"]),
        ({"response_action": "push", "view": modal("Pushed")}, ["Settings", "Step 2", "Pushed"]),
        ({"response_action": "clear"}, []),
        ({}, ["Settings"]),  # an empty ack closes the view on top
    ],
)
async def test_a_submission_is_answered_by_its_ack(
    sandbox: Sandbox,
    receiver: Receiver,
    client: AsyncWebClient,
    response: dict[str, Any],
    titles: list[str],
) -> None:
    await client.views_open(trigger_id=await trigger(sandbox), view=modal())
    top = (await client.views_push(trigger_id=await trigger(sandbox), view=modal("Step 2")))["view"]
    receiver.answer = answering(response)
    result = await sandbox.submit_view("alice", top["id"], {"name": {"value": "Ada"}})
    assert result["failed"] is False
    sent = receiver.requests[-1]
    assert sent.valid and sent.body["type"] == "view_submission"
    assert sent.body["view"]["state"]["values"]["name"]["value"]["value"] == "Ada"
    assert [v["title"]["text"] for v in sandbox.modals("alice")] == titles


async def test_a_failed_submission_keeps_the_modal_and_says_so(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    view = (await client.views_open(trigger_id=await trigger(sandbox), view=modal()))["view"]
    receiver.answer = lambda got: Reply(status=500)
    result = await sandbox.submit_view("alice", view["id"], {"name": {"value": "Ada"}})
    assert result["failed"] is True and "trouble connecting" in result["note"]
    assert sandbox.modal("alice")["id"] == view["id"]


async def test_modals_over_the_control_api(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    view = (await client.views_open(trigger_id=await trigger(sandbox), view=modal()))["view"]
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        async with http.get("/_sandbox/views", params={"user": "alice"}) as resp:
            assert [v["id"] for v in (await resp.json())["views"]] == [view["id"]]
        body = {"user": "alice", "view_id": view["id"], "values": {"name": {"value": "Ada"}}}
        async with http.post("/_sandbox/views/submit", json=body) as resp:
            assert resp.status == 200 and (await resp.json())["closed"] is True
        async with http.post("/_sandbox/views/close", json=body) as resp:
            assert resp.status == 404  # nothing open any more


HOME = {
    "type": "home",
    "blocks": [
        {
            "type": "actions",
            "block_id": "tools",
            "elements": [
                {
                    "type": "button",
                    "action_id": "refresh",
                    "value": "now",
                    "text": {"type": "plain_text", "text": "Refresh"},
                },
                {
                    "type": "checkboxes",
                    "action_id": "tools",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Search"}, "value": "search"},
                        {"text": {"type": "plain_text", "text": "Memory"}, "value": "memory"},
                    ],
                },
            ],
        }
    ],
}


async def test_buttons_and_checkboxes_in_the_home_tab(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    await client.views_publish(user_id="U0CAROL", view=HOME)
    async with aiohttp.ClientSession(base_url=sandbox.url) as http:
        body = {"user": "carol", "view_id": "home", "action_id": "tools", "value": ["memory"]}
        async with http.post("/_sandbox/actions", json=body) as resp:
            assert resp.status == 200 and (await resp.json())["failed"] is False
        body = {"user": "carol", "view_id": "home", "action_id": "refresh"}
        async with http.post("/_sandbox/actions", json=body) as resp:
            assert resp.status == 200
    checked, refreshed = (r.body for r in receiver.requests[-2:])
    assert checked["container"]["type"] == "view" and checked["view"]["type"] == "home"
    memory = {"text": {"type": "plain_text", "text": "Memory"}, "value": "memory"}
    assert checked["actions"][0]["selected_options"] == [memory]
    assert refreshed["actions"][0]["value"] == "now"
    assert refreshed["view"]["state"]["values"]["tools"]["tools"] == {
        "type": "checkboxes",
        "selected_options": [memory],
    }


async def test_an_external_select_asks_the_app_for_options(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    view = modal()
    view["blocks"].append(
        {
            "type": "input",
            "block_id": "repo",
            "label": {"type": "plain_text", "text": "Repository"},
            "element": {"type": "external_select", "action_id": "find", "min_query_length": 0},
        }
    )
    shown = (await client.views_open(trigger_id=await trigger(sandbox), view=view))["view"]
    option = {"text": {"type": "plain_text", "text": "teammate"}, "value": "r-1"}
    receiver.answer = lambda got: Reply(
        body=json.dumps({"options": [option]}), content_type="application/json"
    )
    found = await sandbox.suggest("alice", "find", "team", view_id=shown["id"])
    assert found["options"] == [option]
    asked = receiver.requests[-1].body
    assert asked["type"] == "block_suggestion" and asked["value"] == "team"
    receiver.answer = lambda got: Reply()
    await sandbox.submit_view(
        "alice", shown["id"], {"name": {"value": "x"}, "repo": {"find": option}}
    )
    submitted = receiver.requests[-1].body["view"]["state"]["values"]
    assert submitted["repo"]["find"] == {"type": "external_select", "selected_option": option}


async def test_an_update_keeps_what_was_entered_where_the_ids_stay(
    sandbox: Sandbox, receiver: Receiver, client: AsyncWebClient
) -> None:
    view = (await client.views_open(trigger_id=await trigger(sandbox), view=modal()))["view"]
    await sandbox.act_in_view("alice", view["id"], "value", "Ada")
    kept = modal("Step 2")
    updated = (await client.views_update(view_id=view["id"], view=kept))["view"]
    assert updated["state"]["values"]["name"]["value"]["value"] == "Ada"
    renamed = modal("Step 3")
    renamed["blocks"][0]["block_id"] = "full-name"
    cleared = (await client.views_update(view_id=view["id"], view=renamed))["view"]
    assert cleared["state"]["values"]["full-name"]["value"]["value"] is None
