"""Building the Etsy client, OAuth client and rate limiter from settings (the emulator is configuration)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from etsy_pipeline.etsy.auth import OAuthClient, TokenManager
from etsy_pipeline.etsy.client import EtsyClient, RetryPolicy
from etsy_pipeline.etsy.ratelimit import RateLimiter
from etsy_pipeline.settings import Settings, SettingsError
from etsy_pipeline.storage.repositories.users import TokenRepository
from etsy_pipeline.sync.tokens import DatabaseTokenStore


@dataclass
class EtsyAccess:
    client: EtsyClient
    oauth: OAuthClient
    store: DatabaseTokenStore

    def tokens_for(self, user_id: int) -> TokenManager:
        return TokenManager(user_id, self.store, self.oauth)

    def close(self) -> None:
        self.client.close()
        self.oauth.http.close()


def etsy_keys(settings: Settings) -> tuple[str, str]:
    if settings.etsy_api_keystring is None or settings.etsy_shared_secret is None:
        raise SettingsError(
            "ETSY_API_KEYSTRING and ETSY_SHARED_SECRET must be set to call Etsy (or the emulator: its keys are at "
            "/_emulator/credentials)"
        )
    return settings.etsy_api_keystring.get_secret_value(), settings.etsy_shared_secret.get_secret_value()


def build_limiter(settings: Settings, *, reserve: int = 0) -> RateLimiter:
    """The shared limiter of this app on this API host (Etsy's quota is per app; two emulators are two hosts)."""
    keystring, _ = etsy_keys(settings)
    return RateLimiter(
        qps=settings.etsy_qps,
        qpd=settings.etsy_qpd,
        app_key=f"{settings.etsy_base_url}|{keystring}",
        redis_url=settings.redis_url,
        reserve=reserve,
    )


def build_access(
    settings: Settings, tokens: TokenRepository, retry: RetryPolicy | None = None, *, reserve: int = 0
) -> EtsyAccess:
    """Etsy access for one process. The pull passes `reserve` (settings.etsy_push_reserve) so it leaves the last
    calls of the day to push; push builds with none."""
    keystring, secret = etsy_keys(settings)
    limiter = build_limiter(settings, reserve=reserve)
    client = EtsyClient(
        base_url=settings.etsy_base_url, keystring=keystring, shared_secret=secret, limiter=limiter, retry=retry
    )
    oauth = OAuthClient(
        httpx.Client(base_url=settings.etsy_base_url, timeout=30), keystring=keystring,
        authorize_url=settings.etsy_authorize_url,
    )  # fmt: skip
    return EtsyAccess(client, oauth, DatabaseTokenStore(tokens))
