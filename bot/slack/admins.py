"""Who counts as a workspace admin: Slack's admins and owners, or a user id in TEAMMATE_ADMINS.

Slack's answer comes from users.info (``is_admin``, ``is_owner``, ``is_primary_owner``), read
at the moment of the decision rather than cached: an admin whose role was taken away must not
keep deciding. A user Slack cannot describe is not an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("teammate.slack.admins")


class Admins:
    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.extra = frozenset(extra)

    async def is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        if not user_id:
            return False
        if user_id in self.extra:
            return True
        try:
            user = (await client.users_info(user=user_id))["user"]
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
