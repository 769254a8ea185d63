"""A local stand-in for an OpenAI-compatible chat completions server (vLLM, llama.cpp, Ollama).

Point `openai.AsyncOpenAI(base_url=server.v1_url)` at it: that SDK's base URL ends in "/v1"
(it appends "/chat/completions"). Routes are served both with and without the "/v1" prefix,
so a bare `base_url` works too: `POST /v1/chat/completions` (SSE `data:` chunks ending in
`data: [DONE]` when `"stream": true`, else the JSON completion), `GET /v1/models`,
`GET /v1/models/{id}`, plus the `/_fake/` control routes described in `base`.

Thinking text is sent as reasoning deltas in the fields named by `reasoning_fields`
(llama.cpp and older vLLM use `reasoning_content`, newer vLLM and Ollama `reasoning`).

Run standalone: `python -m bot.testkit.fakes.openai_server --port 8200 --text "hello"`.
"""

from __future__ import annotations

import time
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

ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", None, "You are not allowed to use this resource."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
STATUS_FOR_TYPE = {"overloaded_error": 503, "rate_limit_error": 429, "rate_limit_exceeded": 429}
# Anthropic-style stop reasons accepted in scripts, translated to OpenAI finish reasons.
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class FakeOpenAI(FakeServer):
    """Fake OpenAI chat completions; `v1_url` (alias `openai_base_url`) is the SDK base URL."""

    name = "FakeOpenAI"
    default_model = "fake-model"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Reply | None = None,
        api_key: str | None = None,
        models: Sequence[str] = ("fake-model",),
        reasoning_fields: Sequence[str] = ("reasoning_content",),
    ) -> None:
        super().__init__(host=host, port=port, default=default, api_key=api_key)
        self.models = list(models)
        self.reasoning_fields = tuple(reasoning_fields)

    @property
    def sdk_base_url(self) -> str:
        return self.v1_url

    @property
    def openai_base_url(self) -> str:
        """Same as `v1_url`: what `AsyncOpenAI(base_url=...)` and `OpenAIProvider` expect."""
        return self.v1_url

    def add_routes(self, app: web.Application) -> None:
        for prefix in ("/v1", ""):
            app.router.add_post(prefix + "/chat/completions", self.generate)
            app.router.add_get(prefix + "/models", self._list_models)
            app.router.add_get(prefix + "/models/{model_id}", self._get_model)

    def response_headers(self) -> dict[str, str]:
        return {"x-request-id": "req_" + uuid.uuid4().hex[:24]}

    # -- checks and errors --------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def validate(self, body: dict[str, Any]) -> str | None:
        if "model" not in body:
            return "You must provide a model parameter."
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "Missing required parameter: 'messages'."
        return None

    @staticmethod
    def _error_body(
        error_type: str, message: str, code: str | None, param: str | None = None
    ) -> dict[str, Any]:
        return {"error": {"message": message, "type": error_type, "param": param, "code": code}}

    def error_response(self, status: Status) -> web.Response:
        fallback = ERRORS[500] if status.code >= 500 else ERRORS[400]
        error_type, code, message = ERRORS.get(status.code, fallback)
        body = self._error_body(
            status.error_type or error_type, status.message or message, status.error_code or code
        )
        return web.json_response(
            body,
            status=status.code,
            headers={**self.response_headers(), **retry_after_header(status)},
        )

    def stream_error_status(self, error: StreamError) -> Status:
        return Status(STATUS_FOR_TYPE.get(error.error_type, 500), error.error_type, error.message)

    async def write_stream_error(self, out: SSEOut, error: StreamError) -> None:
        message = error.message or ERRORS[500][2]
        await out.frame(self._error_body(error.error_type, message, None))
        await out.frame("[DONE]")

    # -- completions --------------------------------------------------------------------------

    @staticmethod
    def _finish_reason(reply: Text | ToolCalls | Drop | StreamError) -> str:
        if isinstance(reply, ToolCalls):
            return "tool_calls"
        if isinstance(reply, Text):
            return FINISH_REASONS.get(reply.stop_reason, reply.stop_reason)
        return "stop"

    @staticmethod
    def _usage(body: dict[str, Any], blocks: Sequence[Block]) -> dict[str, Any]:
        prompt = approx_tokens(body.get("messages"), body.get("tools") or [])
        completion = piece_count(blocks)
        usage: dict[str, Any] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        reasoning = sum(len(b.pieces) for b in blocks if b.kind == "thinking")
        if reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return usage

    def message_json(
        self, body: dict[str, Any], reply: Text | ToolCalls, blocks: Sequence[Block]
    ) -> dict[str, Any]:
        text = "".join(b.content for b in blocks if b.kind == "text")
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text or None,
            "refusal": None,
        }
        thinking = "".join(b.content for b in blocks if b.kind == "thinking")
        if thinking:
            message.update({field: thinking for field in self.reasoning_fields})
        calls = [b for b in blocks if b.kind == "tool_use"]
        if calls:
            message["tool_calls"] = [
                {
                    "id": b.id,
                    "type": "function",
                    "function": {"name": b.name, "arguments": b.content},
                }
                for b in calls
            ]
        return {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.default_model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self._finish_reason(reply),
                }
            ],
            "usage": self._usage(body, blocks),
        }

    async def write_stream(
        self,
        out: SSEOut,
        body: dict[str, Any],
        reply: Text | ToolCalls | Drop | StreamError,
        blocks: Sequence[Block],
    ) -> None:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base: dict[str, Any] = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or self.default_model,
            "system_fingerprint": "fp_fake",
        }
        if include_usage:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "choices": [choice]}

        await out.frame(chunk({"role": "assistant", "content": ""}))
        tool_index = 0
        for block in blocks:
            out.cut_if_due()
            if block.kind == "tool_use":
                head = {
                    "index": tool_index,
                    "id": block.id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": ""},
                }
                await out.frame(chunk({"tool_calls": [head]}))
                for piece in block.pieces:
                    part = {"index": tool_index, "function": {"arguments": piece}}
                    await out.piece(chunk({"tool_calls": [part]}))
                tool_index += 1
            elif block.kind == "thinking":
                for piece in block.pieces:
                    await out.piece(chunk({field: piece for field in self.reasoning_fields}))
            elif block.kind.startswith("server_"):
                continue  # an OpenAI-compatible server runs no tools of its own
            else:
                for piece in block.pieces:
                    await out.piece(chunk({"content": piece}))
        out.end_of_content()
        await out.frame(chunk({}, self._finish_reason(reply)))
        if include_usage:
            await out.frame({**base, "choices": [], "usage": self._usage(body, blocks)})
        await out.frame("[DONE]")

    # -- models -------------------------------------------------------------------------------

    @staticmethod
    def _model(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 0, "owned_by": "fake"}

    async def _list_models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [self._model(m) for m in self.models]})

    async def _get_model(self, request: web.Request) -> web.Response:
        model_id = request.match_info["model_id"]
        if model_id not in self.models:
            return self.error_response(
                Status(404, message=f"The model `{model_id}` does not exist.")
            )
        return web.json_response(self._model(model_id))


if __name__ == "__main__":
    run_cli(FakeOpenAI)
