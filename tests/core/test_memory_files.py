"""The memory tool's commands over the database, on SQLite and PostgreSQL: what the model reads
back, and the limits it meets with words it can act on."""

from __future__ import annotations

import pytest

from bot.core.memory import MemoryFiles, MemoryProblem, MemoryStore
from bot.core.memory.paths import MAX_NOTE_CHARS, MAX_NOTES

OWNER = "channel:T1:C1"


@pytest.fixture
def files(db) -> MemoryFiles:
    return MemoryFiles(MemoryStore(db))


async def test_create_view_edit_insert_rename_delete(files: MemoryFiles) -> None:
    assert "empty" in await files.view(OWNER, "/memories")
    said = await files.create(OWNER, "U1", "/memories/decisions.md", "- deploys on Tuesdays\n")
    assert said == "File created successfully at: /memories/decisions.md"
    await files.str_replace(OWNER, "U1", "/memories/decisions.md", "Tuesdays", "Thursdays")
    await files.insert(OWNER, "U1", "/memories/decisions.md", 0, "# Decisions")
    shown = await files.view(OWNER, "/memories/decisions.md")
    assert shown.splitlines()[1:3] == ["     1\t# Decisions", "     2\t- deploys on Thursdays"]
    assert await files.view(OWNER, "/memories/decisions.md", [2, 2]) == (
        "Here's the content of /memories/decisions.md with line numbers:\n"
        "     2\t- deploys on Thursdays"
    )
    await files.rename(OWNER, "/memories/decisions.md", "/memories/team/decisions.md")
    listing = await files.view(OWNER, "/memories")
    assert "/memories/team/decisions.md" in listing and "/memories/decisions.md\n" not in listing
    assert await files.delete(OWNER, "/memories/team") == "Successfully deleted /memories/team"
    assert "empty" in await files.view(OWNER, "/memories")


async def test_another_owner_sees_none_of_it(files: MemoryFiles) -> None:
    await files.create(OWNER, "U1", "/memories/a.md", "mine")
    assert "empty" in await files.view("channel:T1:C2", "/memories")
    with pytest.raises(MemoryProblem, match="does not exist"):
        await files.view("channel:T1:C2", "/memories/a.md")


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/memories/../secrets", "memories/a.md", "/memories/./a", "/memories\\a", ""],
)
async def test_paths_stay_under_memories(files: MemoryFiles, path: str) -> None:
    with pytest.raises(MemoryProblem):
        await files.create(OWNER, "U1", path, "x")


async def test_str_replace_needs_one_match(files: MemoryFiles) -> None:
    await files.create(OWNER, "U1", "/memories/a.md", "same\nsame")
    with pytest.raises(MemoryProblem, match=r"Multiple occurrences .* lines: \[1, 2\]"):
        await files.str_replace(OWNER, "U1", "/memories/a.md", "same", "other")
    with pytest.raises(MemoryProblem, match="did not appear verbatim"):
        await files.str_replace(OWNER, "U1", "/memories/a.md", "absent", "other")


async def test_limits_say_what_to_do(files: MemoryFiles) -> None:
    with pytest.raises(MemoryProblem, match="at most 10,000"):
        await files.create(OWNER, "U1", "/memories/big.md", "x" * (MAX_NOTE_CHARS + 1))
    await files.create(OWNER, "U1", "/memories/a.md", "x")
    with pytest.raises(MemoryProblem, match="already exists"):
        await files.create(OWNER, "U1", "/memories/a.md", "again")
    with pytest.raises(MemoryProblem, match="is a note, not a folder"):
        await files.create(OWNER, "U1", "/memories/a.md/b.md", "x")
    for n in range(MAX_NOTES - 1):
        await files.create(OWNER, "U1", f"/memories/n{n}.md", "x")
    with pytest.raises(MemoryProblem, match=f"already holds {MAX_NOTES} notes"):
        await files.create(OWNER, "U1", "/memories/one-more.md", "x")


async def test_a_folder_name_with_like_wildcards_matches_only_itself(files: MemoryFiles) -> None:
    await files.create(OWNER, "U1", "/memories/a_b/x.md", "1")
    await files.create(OWNER, "U1", "/memories/aXb/y.md", "2")
    await files.delete(OWNER, "/memories/a_b")
    assert "/memories/aXb/y.md" in await files.view(OWNER, "/memories")
