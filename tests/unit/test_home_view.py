"""What the Home tab says, for the embedded model and for threads in DMs and channels."""

from __future__ import annotations

from bot.slack.home_view import RecentThread, home_view


def text_of(view: dict) -> str:
    return "\n".join(str(block.get("text") or block.get("elements")) for block in view["blocks"])


def test_the_embedded_model_is_named_with_what_it_can_do() -> None:
    shown = text_of(home_view("SmolLM2 135M", embedded=True, threads=[]))
    assert "*SmolLM2 135M*" in shown and "small model" in shown and "None yet" in shown
    assert "small model" not in text_of(home_view("Claude Haiku 4.5", embedded=False, threads=[]))


def test_threads_read_as_where_and_when_with_a_link_when_there_is_one() -> None:
    threads = [
        RecentThread("C0GENERAL", "1700000000.000100", 1700000000.0, "https://x/archives/p1"),
        RecentThread("D0ALICE", "1700000100.000100", 1700000100.0, None),
    ]
    view = home_view("Claude Haiku 4.5", embedded=False, threads=threads)
    assert view["type"] == "home"
    shown = text_of(view)
    assert "• <#C0GENERAL> · <!date^1700000000^" in shown and "<https://x/archives/p1|" in shown
    assert "• our direct messages · <!date^1700000100^" in shown
    assert "|Nov 14, 22:15 UTC>" in shown  # the fallback where dates are not drawn
