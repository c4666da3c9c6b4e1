"""Etsy's authentication: the `x-api-key` header and OAuth 2.0 authorization code with PKCE.

- `x-api-key` must be `keystring:shared_secret` (a bare keystring gets Etsy's 403 since February 2026).
- Authorization codes are single-use, bound to client_id, redirect_uri and an S256 code challenge.
- Tokens are `<user_id>.<opaque>`; access tokens live 1 hour and refresh tokens 90 days of simulated time.
- Every refresh rotates the refresh token: the old one stops working at once.
- Revocation (a password change on Etsy) kills both tokens with `invalid_grant`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from etsy_pipeline.emulator.clock import Clock
from etsy_pipeline.emulator.errors import EtsyError, Forbidden, OAuthError

ACCESS_TTL = 3600
REFRESH_TTL = 90 * 86_400
CODE_TTL = 600
ALL_SCOPES = [
    "address_r",
    "address_w",
    "email_r",
    "listings_d",
    "listings_r",
    "listings_w",
    "profile_r",
    "profile_w",
    "shops_r",
    "shops_w",
    "transactions_r",
    "transactions_w",
]
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@dataclass
class Grant:
    user_id: int
    scopes: list[str]
    expires: int


@dataclass
class PendingCode:
    user_id: int
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    expires: int


@dataclass
class AuthServer:
    keystring: str
    shared_secret: str
    clock: Clock
    application_id: int = 1_234_567
    codes: dict[str, PendingCode] = field(default_factory=dict)
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)

    # -- x-api-key ---------------------------------------------------------------------------------------------

    def check_api_key(self, header: str | None) -> None:
        if not header:
            raise Forbidden("Missing x-api-key header")
        keystring, _, secret = header.partition(":")
        if keystring != self.keystring:
            raise Forbidden("Invalid API key")
        if not secret:
            raise Forbidden("Shared secret is required in x-api-key header")
        if not secrets.compare_digest(secret, self.shared_secret):
            raise Forbidden("Invalid shared secret")

    # -- tokens ------------------------------------------------------------------------------------------------

    def _issue(self, user_id: int, scopes: list[str]) -> dict[str, object]:
        now = self.clock.now()
        access = f"{user_id}.{secrets.token_urlsafe(32)}"
        refresh = f"{user_id}.{secrets.token_urlsafe(32)}"
        self.access[access] = Grant(user_id, scopes, now + ACCESS_TTL)
        self.refresh[refresh] = Grant(user_id, scopes, now + REFRESH_TTL)
        return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL, "refresh_token": refresh}

    def seed_refresh_token(self, user_id: int) -> str:
        """A refresh token with every scope, as if the seller had connected the app already."""
        token = f"{user_id}.{secrets.token_urlsafe(32)}"
        self.refresh[token] = Grant(user_id, list(ALL_SCOPES), self.clock.now() + REFRESH_TTL)
        return token

    def current_refresh_token(self, user_id: int) -> str | None:
        live = [t for t, g in self.refresh.items() if g.user_id == user_id and g.expires > self.clock.now()]
        return live[-1] if live else None

    def bearer(self, header: str | None) -> Grant:
        """The grant behind an `Authorization: Bearer` header, or Etsy's 401."""
        if not header or not header.lower().startswith("bearer "):
            raise OAuthError("invalid_token", "access token is missing", status=401)
        token = header[7:].strip()
        grant = self.access.get(token)
        if grant is None:
            raise OAuthError("invalid_token", "access token is invalid", status=401)
        if grant.expires <= self.clock.now():
            raise OAuthError("invalid_token", "access token is expired", status=401)
        return grant

    def revoke(self, user_id: int) -> int:
        """Kill every token of a user (a password change on Etsy); returns how many."""
        dead = [t for t, g in self.access.items() if g.user_id == user_id]
        dead += [t for t, g in self.refresh.items() if g.user_id == user_id]
        for token in dead:
            self.access.pop(token, None)
            self.refresh.pop(token, None)
        return len(dead)

    # -- OAuth flow --------------------------------------------------------------------------------------------

    def authorize(self, params: dict[str, str], user_id: int) -> str:
        """Validate an authorize request, auto-approve it for `user_id`, return the redirect URL."""
        if params.get("response_type") != "code":
            raise EtsyError("response_type must be 'code'")
        if params.get("client_id") != self.keystring:
            raise EtsyError("Invalid client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            raise EtsyError("The requested redirect URL is not permitted")
        state = params.get("state")
        if not state:
            raise EtsyError("state is required")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise EtsyError("code_challenge and code_challenge_method=S256 are required")
        scopes = params.get("scope", "").split()
        unknown = sorted(set(scopes) - set(ALL_SCOPES))
        if unknown:
            raise EtsyError(f"Invalid scope: {' '.join(unknown)}")
        code = secrets.token_urlsafe(24)
        self.codes[code] = PendingCode(
            user_id, self.keystring, redirect_uri, params["code_challenge"], scopes, self.clock.now() + CODE_TTL
        )
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode({'code': code, 'state': state})}"

    def token(self, form: dict[str, str]) -> dict[str, object]:
        grant_type = form.get("grant_type")
        if form.get("client_id") != self.keystring:
            raise OAuthError("invalid_client", "client_id is not a known keystring", status=401)
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _exchange_code(self, form: dict[str, str]) -> dict[str, object]:
        pending = self.codes.pop(form.get("code", ""), None)  # single use, even when it fails below
        if pending is None or pending.expires <= self.clock.now():
            raise OAuthError("invalid_grant", "code is invalid or expired")
        if form.get("redirect_uri") != pending.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier", "")
        if not VERIFIER.match(verifier):
            raise OAuthError("invalid_request", "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(digest, pending.challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        return self._issue(pending.user_id, pending.scopes)

    def _refresh(self, form: dict[str, str]) -> dict[str, object]:
        token = form.get("refresh_token", "")
        grant = self.refresh.get(token)
        if grant is None:
            raise OAuthError("invalid_grant", "refresh_token is revoked")
        if grant.expires <= self.clock.now():
            self.refresh.pop(token, None)
            raise OAuthError("invalid_grant", "refresh_token is expired")
        del self.refresh[token]  # rotation: the old refresh token is dead from now on
        return self._issue(grant.user_id, grant.scopes)


def require_scopes(grant: Grant, needed: tuple[str, ...]) -> None:
    missing = [s for s in needed if s not in grant.scopes]
    if missing:
        raise Forbidden(f"Access token does not have the required scope(s): {', '.join(missing)}")
