"""Etsy OAuth 2.0: PKCE, the authorize URL, code exchange, and refresh with rotation.

Etsy rotates the refresh token on every refresh and the old one dies at once, so a refreshed pair is saved
(through the `TokenStore`, encrypted in `core.oauth_tokens`) before the new access token is used. A refresh that
answers `invalid_grant` first re-reads the store, because another process may have rotated the token a moment
earlier; only if the stored token is the one that failed is the user marked as needing re-authorization.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import orjson

from etsy_pipeline.etsy.errors import EtsyServerError, NeedsReauthorization

log = logging.getLogger(__name__)

TOKEN_PATH = "/v3/public/oauth/token"  # noqa: S105 - a URL path, not a secret
READ_SCOPES = ("shops_r", "listings_r", "transactions_r", "email_r")
WRITE_SCOPES = ("listings_w", "transactions_w")
REFRESH_AHEAD = timedelta(minutes=5)


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: list[str]


class TokenStore(Protocol):
    def load(self, user_id: int) -> Tokens: ...

    def save(self, user_id: int, tokens: Tokens) -> None: ...

    def mark_needs_reauth(self, user_id: int, reason: str) -> None: ...


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OAuthClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        keystring: str,
        authorize_url: str,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.keystring = keystring
        self.authorize_base = authorize_url
        self.attempts = attempts
        self.sleep = sleep

    def authorize_url(self, *, redirect_uri: str, scopes: list[str], state: str, challenge: str, **extra: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.keystring,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{self.authorize_base}?{urlencode(query)}"

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        """POST the token endpoint; its intermittent 500s are retried, OAuth errors are returned as they are."""
        for attempt in range(self.attempts):
            try:
                response = self.http.post(TOKEN_PATH, data=form)
            except httpx.TransportError:
                self.sleep(0.2 * 2**attempt)
                continue
            if response.status_code >= 500:
                self.sleep(0.2 * 2**attempt)
                continue
            try:
                body: dict[str, Any] = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                self.sleep(0.2 * 2**attempt)
                continue
            body["_status"] = response.status_code
            return body
        raise EtsyServerError("the Etsy token endpoint kept failing")

    @staticmethod
    def _tokens(body: dict[str, Any], scopes: list[str]) -> Tokens:
        now = datetime.now(UTC)
        return Tokens(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            access_expires_at=now + timedelta(seconds=int(body.get("expires_in", 3600))),
            refresh_expires_at=now + timedelta(days=90),
            scopes=scopes,
        )

    def exchange_code(self, *, code: str, verifier: str, redirect_uri: str, scopes: list[str]) -> Tokens:
        body = self._post(
            {
                "grant_type": "authorization_code",
                "client_id": self.keystring,
                "redirect_uri": redirect_uri,
                "code": code,
                "code_verifier": verifier,
            }
        )
        if body["_status"] != 200:
            raise NeedsReauthorization(0, str(body.get("error_description") or body.get("error")))
        return self._tokens(body, scopes)

    def refresh(self, user_id: int, current: Tokens) -> Tokens:
        body = self._post(
            {"grant_type": "refresh_token", "client_id": self.keystring, "refresh_token": current.refresh_token}
        )
        if body["_status"] != 200:
            raise NeedsReauthorization(user_id, str(body.get("error_description") or body.get("error")))
        return self._tokens(body, current.scopes)


class TokenManager:
    """The access token of one user: refreshed ahead of expiry or on demand, rotations persisted first."""

    def __init__(self, user_id: int, store: TokenStore, oauth: OAuthClient, ahead: timedelta = REFRESH_AHEAD):
        self.user_id = user_id
        self.store = store
        self.oauth = oauth
        self.ahead = ahead
        self._tokens: Tokens | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def access_token(self) -> str:
        with self._lock:
            if self._tokens is None:
                self._tokens = self.store.load(self.user_id)
            if self._tokens.access_expires_at - self.ahead <= datetime.now(UTC):
                self._refresh_locked(self._tokens)
            return self._tokens.access_token

    def refresh(self, rejected_access_token: str) -> str:
        """Etsy refused `rejected_access_token` (401 invalid_token): get a new one unless already done."""
        with self._lock:
            if self._tokens is not None and self._tokens.access_token != rejected_access_token:
                return self._tokens.access_token
            self._refresh_locked(self._tokens or self.store.load(self.user_id))
            assert self._tokens is not None
            return self._tokens.access_token

    def _refresh_locked(self, current: Tokens) -> None:
        try:
            fresh = self.oauth.refresh(self.user_id, current)
        except NeedsReauthorization as exc:
            stored = self.store.load(self.user_id)
            if stored.refresh_token != current.refresh_token:  # rotated by another process meanwhile
                log.info("Etsy token of user %s was refreshed elsewhere; using the stored one", self.user_id)
                self._tokens = stored
                if stored.access_expires_at - self.ahead <= datetime.now(UTC):
                    self._refresh_locked(stored)
                return
            self.store.mark_needs_reauth(self.user_id, exc.reason)
            raise
        self.store.save(self.user_id, fresh)  # persist the rotated refresh token before anything uses it
        self._tokens = fresh
        self.refreshes += 1
        log.info("refreshed the Etsy access token of user %s", self.user_id)
