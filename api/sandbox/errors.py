"""Alpaca-shaped error answers.

Alpaca reports every failure as ``{"code": <8 digits>, "message": "..."}`` with
an HTTP status; alpaca-py keeps that text in ``APIError``. Code that talks to the
sandbox must see exactly the same shapes it will see in production, so every
refusal in the sandbox is raised as a ``SandboxError`` and rendered in one place.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# Alpaca's error codes, by meaning (first three digits repeat the HTTP status).
CODE_BAD_REQUEST = 40010000
CODE_UNPROCESSABLE = 40010001
CODE_UNAUTHORIZED = 40110000
CODE_FORBIDDEN = 40310000
CODE_NOT_FOUND = 40410000
CODE_NOT_CANCELABLE = 42210000
CODE_RATE_LIMITED = 42910000
CODE_INTERNAL = 50010000


class SandboxError(Exception):
    """A refusal the sandbox answers with an HTTP status and an Alpaca error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def unauthorized() -> SandboxError:
    return SandboxError(401, CODE_UNAUTHORIZED, "request is not authorized")


def unprocessable(message: str) -> SandboxError:
    return SandboxError(422, CODE_UNPROCESSABLE, message)


def not_found(message: str) -> SandboxError:
    return SandboxError(404, CODE_NOT_FOUND, message)


def forbidden(message: str) -> SandboxError:
    return SandboxError(403, CODE_FORBIDDEN, message)


def bad_request(message: str) -> SandboxError:
    return SandboxError(400, CODE_BAD_REQUEST, message)
