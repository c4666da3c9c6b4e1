"""An emulator on a loopback port and an Etsy client connected to it with tokens stored in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config
from etsy_pipeline.etsy.auth import OAuthClient, TokenManager, Tokens
from etsy_pipeline.etsy.client import EtsyClient, RetryPolicy
from etsy_pipeline.etsy.ratelimit import RateLimiter
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.sync.tokens import DatabaseTokenStore
from etsy_pipeline_tests.conftest import REDIS_URL


@dataclass
class Connected:
    emulator: BackgroundEmulator
    client: EtsyClient
    tokens: TokenManager
    store: DatabaseTokenStore
    user_id: int  # our user
    etsy_user_id: int
    shop_id: int
    delays: list[float]

    def admin(self, path: str, **body: object) -> dict[str, object]:
        return httpx.post(f"{self.emulator.url}/_emulator/{path}", json=body).json()  # type: ignore[no-any-return]

    def stats(self) -> dict[str, object]:
        return httpx.get(f"{self.emulator.url}/_emulator/stats").json()  # type: ignore[no-any-return]


def connect(emulator: BackgroundEmulator, repos: Repositories, *, qps: int = 0, qpd: int = 0) -> Connected:
    credentials = httpx.get(f"{emulator.url}/_emulator/credentials").json()
    seller = credentials["users"][0]
    delays: list[float] = []
    oauth_http = httpx.Client(base_url=emulator.url)
    oauth = OAuthClient(oauth_http, keystring=credentials["keystring"], authorize_url=f"{emulator.url}/oauth/connect")
    store = DatabaseTokenStore(repos.tokens)
    user = repos.users.create(seller["email"], etsy_user_id=seller["user_id"])
    seed = Tokens("0.expired", seller["refresh_token"], access_expires_at=_past(), refresh_expires_at=None, scopes=[])
    store.save(user.id, oauth.refresh(user.id, seed))
    limiter = RateLimiter(qps=qps, qpd=qpd, app_key=f"test-{uuid.uuid4()}", redis_url=REDIS_URL, sleep=delays.append)
    client = EtsyClient(
        base_url=emulator.url,
        keystring=credentials["keystring"],
        shared_secret=credentials["shared_secret"],
        limiter=limiter,
        retry=RetryPolicy(attempts=6, base_seconds=0.01, cap_seconds=0.05),
        sleep=delays.append,
        seed=1,
    )
    return Connected(emulator, client, TokenManager(user.id, store, oauth), store, user.id, seller["user_id"],
                     seller["shop_id"], delays)  # fmt: skip


def _past() -> datetime:
    return datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def emulator() -> Iterator[BackgroundEmulator]:
    with BackgroundEmulator(Config(scale="tiny", qps=0, qpd=0)) as running:
        yield running


@pytest.fixture
def connected(emulator: BackgroundEmulator, repos: Repositories) -> Iterator[Connected]:
    conn = connect(emulator, repos)
    yield conn
    conn.client.close()
