import logging

from bot.logs import RedactingFilter, redact
from bot.slack.dedupe import claim_key
from bot.slack.parsing import parse_question


def test_deep_mode_from_flag_or_phrase() -> None:
    assert parse_question("--deep why is the sky blue?") == ("why is the sky blue?", True)
    assert parse_question("Think hard: which plan?")[1] is True
    assert parse_question("what time is it") == ("what time is it", False)


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
    assert claim_key({"command": "/ask", "trigger_id": "t.1"}) == "command:t.1"
    assert claim_key({"type": "block_actions", "trigger_id": "t.2"}) == "action:t.2"
