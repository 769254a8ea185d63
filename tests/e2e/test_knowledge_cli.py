"""`teammate knowledge add | list | remove` as an admin runs them, on SQLite and PostgreSQL:
a folder adds every supported file in it, a re-add of unchanged files does nothing, a changed
file replaces its sections, and mistakes are one line naming the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import postgres_database
from tests.e2e.test_cli import one_line, teammate

DOCUMENTS = Path(__file__).resolve().parents[1] / "knowledge" / "documents"


@pytest.fixture(params=["sqlite", "postgres"])
async def cli_env(request, tmp_path):
    """The environment of the command: a data folder, and on PostgreSQL a fresh database."""
    env = {"TEAMMATE_DATA_DIR": str(tmp_path / "data")}
    if request.param == "sqlite":
        yield env
        return
    async with postgres_database() as db:
        yield {**env, "TEAMMATE_DATABASE_URL": db.url}


async def test_add_list_update_and_remove(cli_env, tmp_path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCUMENTS, docs)
    (docs / "slides.pdf").write_bytes(b"%PDF-1.4")
    code, out = await teammate("knowledge", "add", str(docs), str(tmp_path / "missing.md"),
                               str(docs / "slides.pdf"), env=cli_env, cwd=tmp_path)  # fmt: skip
    assert code == 0, out
    lines = out.splitlines()
    assert f"added      {docs / 'runbooks/deploys.md'}: “Deploying the API”, 3 sections" in lines
    assert f"added      {docs / 'oncall.html'}: “On-call handbook”, 5 sections" in lines
    assert f"skipped    {tmp_path / 'missing.md'}: no such file or folder" in lines
    assert any("slides.pdf: not a supported file type (.pdf)" in line for line in lines)
    assert len(lines) == 6  # the folder's pdf is left out quietly; named, it says why

    code, out = await teammate("knowledge", "list", env=cli_env, cwd=tmp_path)
    assert code == 0, out
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "TITLE", "SOURCE", "SECTIONS", "ADDED"]
    assert any("Using Teammate in Slack" in row and "seeds/knowledge/" in row for row in rows)
    [oncall] = [row for row in rows if "On-call handbook" in row]
    assert "https://wiki.example.com/oncall" in oncall and "  5  " in oncall

    code, out = await teammate("knowledge", "add", str(docs), env=cli_env, cwd=tmp_path)
    assert code == 0 and out.count("unchanged") == 4, out

    deploys = docs / "runbooks" / "deploys.md"
    deploys.write_text("# Deploying the API\n\n## Deploy freeze\n\nNo deploys in December.\n")
    code, out = await teammate("knowledge", "add", str(deploys), env=cli_env, cwd=tmp_path)
    assert one_line(out) == f"updated    {deploys}: “Deploying the API”, 1 section", out

    code, out = await teammate("knowledge", "remove", str(deploys), env=cli_env, cwd=tmp_path)
    assert code == 0 and one_line(out).startswith(f"removed    {deploys}"), out
    oncall_id = oncall.split()[0]
    code, out = await teammate("knowledge", "remove", oncall_id, env=cli_env, cwd=tmp_path)
    assert code == 0 and "“On-call handbook”" in one_line(out), out
    code, out = await teammate("knowledge", "list", env=cli_env, cwd=tmp_path)
    assert "On-call handbook" not in out and "Deploying the API" not in out
    assert "Database failover runbook" in out


async def test_mistakes_are_one_line(cli_env, tmp_path) -> None:
    code, out = await teammate("knowledge", "remove", "nope.md", env=cli_env, cwd=tmp_path)
    assert code == 1
    assert "no document has the id or source 'nope.md'" in one_line(out)
    assert "teammate knowledge list" in out
    code, out = await teammate(
        "knowledge", "add", str(tmp_path / "gone"), env=cli_env, cwd=tmp_path
    )
    assert code == 1 and "no such file or folder" in one_line(out)


async def test_an_unreachable_database_is_one_line(tmp_path) -> None:
    env = {
        "TEAMMATE_DATA_DIR": str(tmp_path),
        "TEAMMATE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x",
    }
    code, out = await teammate("knowledge", "list", env=env, cwd=tmp_path)
    assert code == 2
    assert "cannot open the database" in one_line(out) and "TEAMMATE_DATABASE_URL" in out
