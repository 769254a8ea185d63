"""`/teammate memory`: the channel's (or the DM's) notes, to the person who asked only, with
Edit (a modal), Clear, and Clear all (asked again first); `/teammate memory allow|deny` lets a
workspace admin switch memory on or off in a channel shared with another organisation."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack import memory_view as pages
from bot.slack.exactly_once import Listeners
from bot.slack.memory_desk import EMPTY_NOTE, MemoryDesk, Place
from bot.slack.services import Services

USAGE = (
    "Usage: `/teammate memory` shows the notes kept here; admins: `/teammate memory allow|deny`."
)


async def memory_command(
    services: Services, command: dict, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    desk = services.memory
    if desk is None:
        return
    words = (command.get("text") or "").split()[1:]
    where = (command.get("team_id", ""), command["channel_id"], command["user_id"])
    place = await desk.place(client, *where)
    if words in (["allow"], ["deny"]):
        text = await desk.decide(client, place, allowed=words == ["allow"])
        await respond(text=text, response_type="ephemeral")
    elif words:
        await respond(text=USAGE, response_type="ephemeral")
    else:
        blocks = await desk.page(place)
        await respond(text=f"Memory of {place.name}", blocks=blocks, response_type="ephemeral")


async def clicked(
    services: Services, body: dict, client: AsyncWebClient, respond: AsyncRespond
) -> None:
    """Clear, Clear all, its confirmation, Cancel: the list message is redrawn in place."""
    desk = services.memory
    if desk is None:
        return
    place = await _place(desk, body, client)
    action = body["actions"][0]
    if action["action_id"] == pages.CLEAR:
        blocks = await desk.clear(place, action.get("value", ""))
    elif action["action_id"] == pages.CLEAR_ALL:
        blocks = await desk.confirm_clear_all(place)
    elif action["action_id"] == pages.CLEAR_ALL_CONFIRMED:
        blocks = await desk.clear_all(place)
    else:
        blocks = await desk.page(place)
    await respond(replace_original=True, text=f"Memory of {place.name}", blocks=blocks)


async def edit(services: Services, body: dict, client: AsyncWebClient) -> None:
    """Edit: a modal with the note's text."""
    desk = services.memory
    if desk is None:
        return
    place = await _place(desk, body, client)
    path = body["actions"][0].get("value", "")
    note = await desk.note(place, path)
    if note is None:
        return
    scope = place.scope
    target = pages.EditTarget(scope.team_id, scope.channel_id, path, body.get("response_url", ""))
    await client.views_open(trigger_id=body["trigger_id"], view=pages.edit_modal(target, note))


async def check_edit(view: dict) -> dict | None:
    """Keep the modal open with a word beside the box when the note was emptied."""
    text = pages.edited_text(view)
    if text.strip():
        return None
    return {"response_action": "errors", "errors": {pages.NOTE_BLOCK: EMPTY_NOTE}}


async def save_edit(services: Services, body: dict, view: dict, client: AsyncWebClient) -> None:
    """Save the note, then redraw the list it was opened from (or say why it was not saved)."""
    target = pages.EditTarget.load(view.get("private_metadata", ""))
    desk = services.memory
    if desk is None:
        return
    place = await desk.place(client, target.team_id, target.channel, body["user"]["id"])
    problem = await desk.save(place, target.path, pages.edited_text(view))
    if target.response_url:
        blocks = pages.plain(f"{target.path} was not saved: {problem}") if problem else []
        blocks += await desk.page(place)
        await AsyncWebhookClient(target.response_url).send(
            text=f"Memory of {place.name}", blocks=blocks, replace_original=True
        )


async def _place(desk: MemoryDesk, body: dict, client: AsyncWebClient) -> Place:
    """Where a click came from: its channel (message or ephemeral) and the person who clicked."""
    user = body["user"]
    team = (body.get("team") or {}).get("id") or user.get("team_id", "")
    channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
    return await desk.place(client, team, channel, user["id"])


def register(on: Listeners) -> None:
    on.command("/teammate", subcommand="memory")(memory_command)
    for action in (pages.CLEAR, pages.CLEAR_ALL, pages.CLEAR_ALL_CONFIRMED, pages.BACK):
        on.action(action)(clicked)
    on.action(pages.EDIT)(edit)
    on.view(pages.EDIT_VIEW, ack=check_edit)(save_edit)
