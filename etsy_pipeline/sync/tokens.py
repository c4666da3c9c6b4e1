"""Etsy tokens kept in `core.oauth_tokens` (encrypted), behind the Etsy client's `TokenStore` protocol."""

from __future__ import annotations

from etsy_pipeline.etsy.auth import Tokens
from etsy_pipeline.etsy.errors import NeedsReauthorization
from etsy_pipeline.storage.repositories import NotFoundError
from etsy_pipeline.storage.repositories.users import TokenRepository


class DatabaseTokenStore:
    def __init__(self, repository: TokenRepository) -> None:
        self.repository = repository

    def load(self, user_id: int) -> Tokens:
        try:
            pair = self.repository.get(user_id)
        except NotFoundError as exc:
            raise NeedsReauthorization(user_id, str(exc)) from None
        if pair.status != "active":
            raise NeedsReauthorization(user_id, "the stored token was revoked earlier")
        return Tokens(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            access_expires_at=pair.access_expires_at,
            refresh_expires_at=pair.refresh_expires_at,
            scopes=pair.scopes,
        )

    def save(self, user_id: int, tokens: Tokens) -> None:
        self.repository.save(
            user_id,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
            scopes=tokens.scopes,
        )

    def mark_needs_reauth(self, user_id: int, reason: str) -> None:
        self.repository.mark_needs_reauth(user_id, reason)
