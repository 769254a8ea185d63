"""Reading Web API arguments the way Slack does, from JSON, form or query parameters.

Form bodies carry arrays and objects as JSON strings and booleans as "true"/"1"; JSON bodies
carry them natively. Callers get one typed view either way, and errors in Slack's words.
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """A Slack error answer: {"ok": false, "error": error}; detail goes to the call log."""

    def __init__(self, error: str, detail: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


class Call:
    """One Web API call's arguments, plus notes the handler wants in the call log."""

    def __init__(self, method: str, args: dict[str, Any]) -> None:
        self.method = method
        self.args = args
        self.notes: list[str] = []

    def raw(self, name: str) -> Any:
        return self.args.get(name)

    def text(self, name: str, *, required: bool = False, error: str = "invalid_arguments") -> str:
        """A string argument ("" when absent); `required` raises `error` when absent."""
        value = self.args.get(name)
        if value is None or value == "":
            if required:
                raise ApiError(error, f"missing {name}")
            return ""
        if isinstance(value, (dict, list)):
            raise ApiError("invalid_arguments", f"{name} must be a string")
        return str(value)

    def optional(self, name: str) -> str | None:
        value = self.text(name)
        return value or None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.args.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true", "yes")

    def number(self, name: str, default: int, *, low: int = 1, high: int = 1000) -> int:
        value = self.args.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_arguments", f"{name} must be a number") from exc
        if number <= 0:
            return default
        return max(low, min(high, number))

    def structured(self, name: str) -> Any:
        """An array or object argument, decoded when it came as a JSON string."""
        value = self.args.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ApiError("invalid_arguments", f"{name} is not valid JSON") from exc
        return value

    def names(self, name: str) -> list[str]:
        """A list argument given as an array or a comma-separated string."""
        value = self.args.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]
