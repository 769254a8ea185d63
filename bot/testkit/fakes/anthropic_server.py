"""A local stand-in for the Anthropic Messages API, speaking its real wire format.

Point `anthropic.AsyncAnthropic(base_url=server.base_url)` at it: that SDK's base URL has no
"/v1" (it appends "/v1/messages" itself). Routes: `POST /v1/messages` (SSE when
`"stream": true`, else the JSON Message), `POST /v1/messages/count_tokens`, `GET /v1/models`,
`GET /v1/models/{id}`, plus the `/_fake/` control routes described in `base`.

Thinking blocks carry a signature derived from their text; a later request that sends a
thinking block back altered or without its signature gets the 400 the real API gives
(switch off with `check_signatures=False`).

Run standalone: `python -m bot.testkit.fakes.anthropic_server --port 8100 --text "hello"`.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .base import FakeServer, SSEOut, retry_after_header, run_cli
from .script import (
    Block,
    Drop,
    Reply,
    Status,
    StreamError,
    Text,
    ToolCalls,
    approx_tokens,
    piece_count,
)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
STATUS_FOR_TYPE = {v: k for k, v in ERROR_TYPES.items()}
DEFAULT_MESSAGES = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "This request would exceed the rate limit for your organization.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out.",
    "overloaded_error": "Overloaded",
}
# OpenAI-style stop reasons accepted in scripts, translated to Anthropic's.
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal"}


def thinking_signature(thinking: str) -> str:
    """The signature this fake gives a thinking text (stable, so histories can be replayed)."""
    digest = hashlib.sha256(b"fake-thinking:" + thinking.encode()).digest()
    return base64.b64encode(digest).decode()


def server_tool_result(block: Block) -> dict[str, Any]:
    """The ``web_search_tool_result`` / ``web_fetch_tool_result`` block of a server tool, as
    the API streams it (whole, in its content_block_start)."""
    tool = block.server
    assert tool is not None
    if tool.name == "web_search":
        content: Any = [
            {
                "type": "web_search_result",
                "url": url,
                "title": title,
                "encrypted_content": base64.b64encode(url.encode()).decode(),
                "page_age": None,
            }
            for title, url in tool.pages
        ]
        if tool.error:
            content = {"type": "web_search_tool_result_error", "error_code": tool.error}
    else:
        title, url = tool.pages[0] if tool.pages else ("", str(tool.args.get("url", "")))
        content = {
            "type": "web_fetch_result",
            "url": url,
            "retrieved_at": "2026-12-01T09:00:00Z",
            "content": {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": f"The page {url}."},
                "title": title or None,
            },
        }
        if tool.error:
            content = {"type": "web_fetch_tool_error", "error_code": tool.error}
    return {"type": f"{tool.name}_tool_result", "tool_use_id": block.id, "content": content}


class FakeAnthropic(FakeServer):
    """Fake Anthropic Messages API; `base_url` is what `AsyncAnthropic(base_url=...)` wants."""

    name = "FakeAnthropic"
    default_model = "claude-sonnet-4-6"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Reply | None = None,
        api_key: str | None = None,
        models: Sequence[str] = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7"),
        check_signatures: bool = True,
    ) -> None:
        super().__init__(host=host, port=port, default=default, api_key=api_key)
        self.models = list(models)
        self.check_signatures = check_signatures

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.generate)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/v1/models/{model_id}", self._get_model)

    def new_tool_id(self) -> str:
        return "toolu_" + uuid.uuid4().hex[:24]

    def response_headers(self) -> dict[str, str]:
        return {"request-id": "req_" + uuid.uuid4().hex[:24]}

    # -- checks -------------------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return self.api_key in (request.headers.get("x-api-key"), bearer)

    def validate(self, body: dict[str, Any]) -> str | None:
        for required in ("model", "max_tokens", "messages"):
            if required not in body:
                return f"{required}: Field required"
        return self._validate_messages(body)

    def _validate_messages(self, body: dict[str, Any]) -> str | None:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        if not self.check_signatures:
            return None
        for i, message in enumerate(messages):
            content = message.get("content") if isinstance(message, dict) else None
            if message.get("role") != "assistant" or not isinstance(content, list):
                continue
            for j, block in enumerate(content):
                if not isinstance(block, dict) or block.get("type") != "thinking":
                    continue
                if block.get("signature") != thinking_signature(block.get("thinking", "")):
                    return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        return None

    # -- errors -------------------------------------------------------------------------------

    def _error_body(self, error_type: str, message: str, error_code: str | None = None) -> dict:
        error: dict[str, Any] = {"type": error_type, "message": message}
        if error_code:
            error["details"] = {"error_code": error_code}
        return {"type": "error", "error": error, "request_id": "req_" + uuid.uuid4().hex[:24]}

    def error_response(self, status: Status) -> web.Response:
        error_type = status.error_type or ERROR_TYPES.get(
            status.code, "api_error" if status.code >= 500 else "invalid_request_error"
        )
        message = status.message or DEFAULT_MESSAGES.get(error_type, "Error")
        return web.json_response(
            self._error_body(error_type, message, status.error_code),
            status=status.code,
            headers={**self.response_headers(), **retry_after_header(status)},
        )

    def stream_error_status(self, error: StreamError) -> Status:
        return Status(STATUS_FOR_TYPE.get(error.error_type, 500), error.error_type, error.message)

    async def write_stream_error(self, out: SSEOut, error: StreamError) -> None:
        message = error.message or DEFAULT_MESSAGES.get(error.error_type, "Error")
        await out.frame(self._error_body(error.error_type, message), event="error")

    # -- messages -----------------------------------------------------------------------------

    def _input_tokens(self, body: dict[str, Any]) -> int:
        system, tools = body.get("system") or "", body.get("tools") or []
        return approx_tokens(system, body.get("messages"), tools)

    def _stop_reason(self, reply: Text | ToolCalls | Drop | StreamError) -> str:
        if isinstance(reply, ToolCalls):
            return "tool_use"
        if isinstance(reply, Text):
            return STOP_REASONS.get(reply.stop_reason, reply.stop_reason)
        return "end_turn"

    def _message(self, body: dict[str, Any], content: list[dict], stop: str | None) -> dict:
        return {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or self.default_model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self._input_tokens(body),
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }

    def message_json(
        self, body: dict[str, Any], reply: Text | ToolCalls, blocks: Sequence[Block]
    ) -> dict[str, Any]:
        content = [self._full_block(b) for b in blocks]
        message = self._message(body, content, self._stop_reason(reply))
        message["usage"]["output_tokens"] = piece_count(blocks)
        return message

    @staticmethod
    def _full_block(block: Block) -> dict[str, Any]:
        if block.kind == "server_tool_use":
            call = {"type": "server_tool_use", "id": block.id, "name": block.name}
            return {**call, "input": block.args}
        if block.kind == "server_tool_result":
            return server_tool_result(block)
        if block.kind == "thinking":
            text = block.content
            return {"type": "thinking", "thinking": text, "signature": thinking_signature(text)}
        if block.kind == "tool_use":
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.args}
        return {"type": "text", "text": block.content}

    @staticmethod
    def _empty_block(block: Block) -> dict[str, Any]:
        if block.kind == "server_tool_use":
            return {"type": "server_tool_use", "id": block.id, "name": block.name, "input": {}}
        if block.kind == "server_tool_result":
            return server_tool_result(block)  # arrives whole, with no deltas
        if block.kind == "thinking":
            return {"type": "thinking", "thinking": "", "signature": ""}
        if block.kind == "tool_use":
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
        return {"type": "text", "text": ""}

    @staticmethod
    def _delta(block: Block, piece: str) -> dict[str, Any]:
        if block.kind == "thinking":
            return {"type": "thinking_delta", "thinking": piece}
        if block.kind in ("tool_use", "server_tool_use"):
            return {"type": "input_json_delta", "partial_json": piece}
        return {"type": "text_delta", "text": piece}

    async def write_stream(
        self,
        out: SSEOut,
        body: dict[str, Any],
        reply: Text | ToolCalls | Drop | StreamError,
        blocks: Sequence[Block],
    ) -> None:
        start = {"type": "message_start", "message": self._message(body, [], None)}
        await out.frame(start, event="message_start")
        for index, block in enumerate(blocks):
            out.cut_if_due()
            begin = {
                "type": "content_block_start",
                "index": index,
                "content_block": self._empty_block(block),
            }
            await out.frame(begin, event="content_block_start")
            if index == 0:
                await out.frame({"type": "ping"}, event="ping")
            delta = {"type": "content_block_delta", "index": index}
            for piece in block.pieces:
                event = {**delta, "delta": self._delta(block, piece)}
                await out.piece(event, "content_block_delta")
            if block.kind == "thinking":
                signed = thinking_signature(block.content)
                signature = {"type": "signature_delta", "signature": signed}
                await out.frame({**delta, "delta": signature}, event="content_block_delta")
            await out.frame({"type": "content_block_stop", "index": index}, "content_block_stop")
        out.end_of_content()
        end = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": piece_count(blocks)},
        }
        await out.frame(end, event="message_delta")
        await out.frame({"type": "message_stop"}, event="message_stop")

    # -- other routes -------------------------------------------------------------------------

    async def _count_tokens(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self.error_response(Status(400, message="The request body is not valid JSON."))
        problem = "model: Field required" if "model" not in body else self._validate_messages(body)
        if problem:
            return self.error_response(Status(400, message=problem))
        return web.json_response(
            {"input_tokens": self._input_tokens(body)}, headers=self.response_headers()
        )

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model_id,
            "display_name": model_id,
            "created_at": "2025-01-01T00:00:00Z",
        }

    async def _list_models(self, request: web.Request) -> web.Response:
        data = [self._model(m) for m in self.models]
        return web.json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": self.models[0] if self.models else None,
                "last_id": self.models[-1] if self.models else None,
            }
        )

    async def _get_model(self, request: web.Request) -> web.Response:
        model_id = request.match_info["model_id"]
        if model_id not in self.models:
            return self.error_response(Status(404, message=f"model: {model_id}"))
        return web.json_response(self._model(model_id))


if __name__ == "__main__":
    run_cli(FakeAnthropic)
