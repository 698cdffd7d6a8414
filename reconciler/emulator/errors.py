"""OpenAI-shaped API errors: the one exception the emulator's handlers raise for a bad request.

`ApiError.body()` is the wire format `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer with OpenAI's error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """400 invalid_request_error naming the offending parameter."""
    return ApiError(400, message, param=param, code=code)


def not_found(kind: str, ident: str, param: str | None = None) -> ApiError:
    code = "model_not_found" if kind == "model" else None
    return ApiError(404, f"No such {kind}: '{ident}'.", param=param, code=code)
