"""Slack's size limits, enforced so a bot that passes here will not be refused by Slack.

Block checks cover what bots most often get wrong (too many blocks, oversized section,
markdown and header text, malformed JSON); they are not a full Block Kit validator.
"""

from __future__ import annotations

import json
from typing import Any

MESSAGE_TEXT_MAX = 40_000
UPDATE_TEXT_MAX = 4_000
STREAM_APPEND_MAX = 12_000
STREAM_TOTAL_MAX = 40_000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
SECTION_TEXT_MAX = 3_000
SECTION_FIELD_MAX = 2_000
SECTION_FIELDS_MAX = 10
MARKDOWN_BLOCK_MAX = 12_000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BLOCK_ID_MAX = 255


class BlocksError(ValueError):
    """Blocks Slack would refuse; the message says which rule, for the call log."""


def parse_blocks(value: Any) -> list[dict[str, Any]] | None:
    """Blocks from a JSON body (a list) or a form body (a JSON string); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise BlocksError("blocks are not valid JSON") from exc
    if not isinstance(value, list):
        raise BlocksError("blocks must be an array")
    return value


def check_blocks(blocks: list[dict[str, Any]], *, max_blocks: int = MESSAGE_BLOCKS_MAX) -> None:
    """Raises BlocksError when Slack would answer invalid_blocks."""
    if len(blocks) > max_blocks:
        raise BlocksError(f"{len(blocks)} blocks, more than {max_blocks}")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise BlocksError(f"block {index} has no type")
        block_id = block.get("block_id")
        if block_id is not None and (not isinstance(block_id, str) or len(block_id) > BLOCK_ID_MAX):
            raise BlocksError(f"block {index} has a bad block_id")
        _check_block(index, block)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        value = obj.get("text", "")
        return value if isinstance(value, str) else ""
    return ""


def _check_block(index: int, block: dict[str, Any]) -> None:
    kind = block["type"]
    if kind == "section":
        text = block.get("text")
        fields = block.get("fields")
        if text is None and not fields:
            raise BlocksError(f"section block {index} needs text or fields")
        if len(_text_of(text)) > SECTION_TEXT_MAX:
            raise BlocksError(f"section block {index} text over {SECTION_TEXT_MAX} characters")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > SECTION_FIELDS_MAX:
                raise BlocksError(f"section block {index} has too many fields")
            if any(len(_text_of(f)) > SECTION_FIELD_MAX for f in fields):
                raise BlocksError(f"section block {index} field over {SECTION_FIELD_MAX}")
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str):
            raise BlocksError(f"markdown block {index} needs a text string")
        if len(text) > MARKDOWN_BLOCK_MAX:
            raise BlocksError(f"markdown block {index} text over {MARKDOWN_BLOCK_MAX} characters")
    elif kind == "header":
        if len(_text_of(block.get("text"))) > HEADER_TEXT_MAX:
            raise BlocksError(f"header block {index} text over {HEADER_TEXT_MAX} characters")
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= CONTEXT_ELEMENTS_MAX:
            raise BlocksError(f"context block {index} needs 1 to {CONTEXT_ELEMENTS_MAX} elements")
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= ACTIONS_ELEMENTS_MAX:
            raise BlocksError(f"actions block {index} needs 1 to {ACTIONS_ELEMENTS_MAX} elements")


def truncate_text(text: str, limit: int = MESSAGE_TEXT_MAX) -> tuple[str, bool]:
    """Cuts text the way Slack does for posts over the limit; says whether it cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit], True
