"""The default workspace: three people, two channels with the bot and one without.

Fixed ids (U0ALICE, C0GENERAL, ...) keep tests and demos readable; reset() brings this back.
"""

from __future__ import annotations

from dataclasses import replace

from bot.sandbox.state import Channel, User, Workspace

PEOPLE = (
    User(
        id="U0ALICE",
        name="alice",
        real_name="Alice Archer",
        display_name="Alice",
        tz="America/New_York",
        tz_offset=-18000,
        email="alice@sandbox.test",
        title="Engineering manager",
    ),
    User(
        id="U0BOB",
        name="bob",
        real_name="Bob Baker",
        display_name="Bob",
        tz="Europe/London",
        tz_offset=0,
        email="bob@sandbox.test",
        title="Site reliability engineer",
    ),
    User(
        id="U0CAROL",
        name="carol",
        real_name="Carol Chen",
        display_name="Carol",
        tz="Asia/Tokyo",
        tz_offset=32400,
        email="carol@sandbox.test",
        title="Product designer",
    ),
)

CHANNELS = (
    ("C0GENERAL", "general", "Company-wide announcements and chat", True),
    ("C0RANDOM", "random", "Everything else", True),
    ("C0NOBOT", "private-ops", "Operations; the bot is not invited", False),
)


def seed(workspace: Workspace) -> None:
    """Fills an empty workspace with the default people, channels and DMs."""
    ident = workspace.identity
    workspace.add_user(
        User(
            id=ident.bot_user_id,
            name=ident.bot_name,
            real_name=ident.bot_real_name,
            display_name=ident.bot_real_name,
            is_bot=True,
            bot_id=ident.bot_id,
        )
    )
    for person in PEOPLE:
        workspace.add_user(replace(person))
    people = {p.id for p in PEOPLE}
    for channel_id, name, topic, with_bot in CHANNELS:
        members = set(people)
        if with_bot:
            members.add(ident.bot_user_id)
        workspace.add_channel(Channel(id=channel_id, name=name, topic=topic, members=members))
