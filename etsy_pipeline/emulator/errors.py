"""Typed errors that render as Etsy's error bodies.

Etsy's documented error body is `{"error": "<message>"}`; OAuth errors add `error_description`. There are no
machine-readable codes, so the messages follow Etsy's wording where it is known.
"""

from __future__ import annotations

from typing import Any


class EtsyError(Exception):
    status = 400

    def __init__(self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


class BadRequest(EtsyError):
    status = 400


class Unauthorized(EtsyError):
    status = 401


class Forbidden(EtsyError):
    status = 403


class NotFound(EtsyError):
    status = 404


class Conflict(EtsyError):
    status = 409


class TooManyRequests(EtsyError):
    status = 429


class OAuthError(EtsyError):
    """`{"error": code, "error_description": text}` as Etsy's OAuth server answers."""

    def __init__(self, code: str, description: str, *, status: int = 400) -> None:
        super().__init__(code, status=status)
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "error_description": self.description}
