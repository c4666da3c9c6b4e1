"""Errors of the Etsy client. Messages carry Etsy's request id for support, never a token or a key."""

from __future__ import annotations


class EtsyError(Exception):
    """A call to Etsy failed."""

    def __init__(self, message: str, *, status: int | None = None, request_id: str | None = None) -> None:
        detail = f"{message} (HTTP {status}" if status is not None else message
        if status is not None:
            detail += f", x-etsy-request-uuid {request_id})" if request_id else ")"
        super().__init__(detail)
        self.status = status
        self.request_id = request_id
        self.etsy_message = message


class EtsyClientError(EtsyError):
    """400, 403, 404, 409: the request itself is wrong or not allowed; retrying will not help."""


class EtsyServerError(EtsyError):
    """500/503, network trouble or a cut-short body, after every retry was spent."""


class QuotaExhausted(EtsyError):
    """The app's rolling daily budget is spent; the run should stop cleanly and resume later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NeedsReauthorization(EtsyError):
    """The user's refresh token is revoked or expired: only a new connect can fix it."""

    def __init__(self, user_id: int, reason: str) -> None:
        super().__init__(
            f"Etsy authorization of user {user_id} is no longer valid ({reason}); run `etsy-pipeline connect`"
        )
        self.user_id = user_id
        self.reason = reason
