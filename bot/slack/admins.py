"""Who counts as a workspace admin: Slack's own admins and owners, or an id in TEAMMATE_ADMINS."""

from __future__ import annotations

import logging
from collections.abc import Collection

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("teammate.slack.admins")


async def is_admin(client: AsyncWebClient, user_id: str, admins: Collection[str]) -> bool:
    """Whether ``user_id`` is named in ``admins`` or is an admin or owner of the workspace
    (users.info); a profile Slack will not give counts as no admin."""
    if not user_id:
        return False
    if user_id in admins:
        return True
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("could not read %s's profile: %s", user_id, exc.response.get("error"))
        return False
    user = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
