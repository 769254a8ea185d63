"""What the Home tab says, for the embedded model and for threads in DMs and channels."""

from __future__ import annotations

from bot.app import load_catalog
from bot.settings import Settings
from bot.slack.home_view import RecentThread, home_view


def make_settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def text_of(view: dict) -> str:
    return "\n".join(str(block.get("text") or block.get("elements")) for block in view["blocks"])


def test_the_model_is_named_with_the_catalogs_note_on_it() -> None:
    local = load_catalog(make_settings()).resolve("local")
    shown = text_of(home_view(local.label, local.note, threads=[]))
    assert "*SmolLM2 135M (embedded)*" in shown and "often wrong" in shown and "None yet" in shown
    assert "often wrong" not in text_of(home_view("Claude Haiku 4.5", None, threads=[]))


def test_threads_read_as_where_and_when_with_a_link_when_there_is_one() -> None:
    threads = [
        RecentThread("C0GENERAL", "1700000000.000100", 1700000000.0, "https://x/archives/p1"),
        RecentThread("D0ALICE", "1700000100.000100", 1700000100.0, None),
    ]
    view = home_view("Claude Haiku 4.5", None, threads=threads)
    assert view["type"] == "home"
    shown = text_of(view)
    assert "• <#C0GENERAL> · <!date^1700000000^" in shown and "<https://x/archives/p1|" in shown
    assert "• our direct messages · <!date^1700000100^" in shown
    assert "|Nov 14, 22:15 UTC>" in shown  # the fallback where dates are not drawn
