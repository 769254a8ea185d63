import logging

from bot.logs import RedactingFilter, redact
from bot.slack.dedupe import claim_key
from bot.slack.parsing import parse_deep, parse_question


def test_deep_mode_from_flag_or_phrase() -> None:
    assert parse_question("--deep why is the sky blue?") == ("why is the sky blue?", True)
    assert parse_question("Think hard: which plan?")[1] is True
    assert parse_question("what time is it") == ("what time is it", False)
    for phrase in ("think harder about it", "please THINK CAREFULLY", "think deeply, then"):
        assert parse_question(phrase)[1] is True, phrase
    for phrase in ("the hardware is slow", "I think hardly anyone came", "a --deeper look"):
        assert parse_question(phrase)[1] is False, phrase


def test_no_deep_declines_deep_mode_for_one_question() -> None:
    assert parse_question("--no-deep who is on call?") == ("who is on call?", False)
    assert parse_deep("--no-deep who is on call?") is False
    assert parse_deep("think hard, but --no-deep") is False  # the explicit flag wins
    assert parse_deep("--deep who is on call?") is True
    assert parse_deep("who is on call?") is None  # the channel's default decides
    assert parse_deep("a --no-deeper look") is None
    assert parse_question("--no-deep") == ("", False)


def test_secrets_never_reach_the_log(caplog) -> None:
    assert "xoxb" not in redact("token xoxb-123-456-abcdef used")
    assert "sk-ant" not in redact("key=sk-ant-api03-AAAA_bbbb-cccc")
    logger = logging.getLogger("teammate.test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="teammate.test.redact"):
        logger.info("calling with %s", "Bearer xoxb-999-888-secret")
    assert "secret" not in caplog.text and "[redacted]" in caplog.text


def test_claim_keys_identify_work_across_retries() -> None:
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}
    assert claim_key(event) == "event:Ev1"
    assert claim_key({**event, "event": {"type": "message", "bot_id": "B1"}}) is None
    mention = {"type": "message", "channel_type": "channel", "text": "<@UBOT> hi"}
    assert claim_key({**event, "event": mention}, "UBOT") is None  # its app_mention is claimed
    assert claim_key({**event, "event": {**mention, "channel_type": "im"}}, "UBOT") == "event:Ev1"
    assert claim_key({**event, "event": {**mention, "text": "hi"}}, "UBOT") == "event:Ev1"
    assert claim_key({"command": "/ask", "trigger_id": "t.1"}) == "command:t.1"
    assert claim_key({"type": "block_actions", "trigger_id": "t.2"}) == "action:t.2"
