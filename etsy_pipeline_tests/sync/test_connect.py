"""Account integrity of `connect`: the user is the Etsy account that authorized (getMe), never the typed e-mail.

Expectations come from the emulator's own sellers (`/_emulator/credentials` and its world), not from the code
under test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from etsy_pipeline.demo import emulator_settings
from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config
from etsy_pipeline.etsy.client import RetryPolicy
from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories.users import AccountMismatchError, TokenPair
from etsy_pipeline.sync.clients import EtsyAccess, build_access
from etsy_pipeline.sync.connect import AuthorizationFailed, authorize, record_connection


@dataclass
class Site:
    emulator: BackgroundEmulator
    runtime: Runtime
    access: EtsyAccess
    sellers: list[dict[str, Any]]

    def connect(self, seller: int, typed_email: str | None) -> Any:
        """Authorize as the emulator's seller number `seller`, typing `typed_email` on the command line."""
        tokens = authorize(self.access, email=self.sellers[seller]["email"], announce=lambda _: None)
        return record_connection(self.runtime, self.access, tokens, typed_email)

    def rows(self, sql: str) -> list[Any]:
        with self.runtime.db.engine.connect() as conn:
            return list(conn.execute(text(sql)).all())

    def token(self, user_id: int) -> TokenPair:
        return self.runtime.repos.tokens.get(user_id)


@pytest.fixture
def site(settings: Settings, db: Database) -> Iterator[Site]:
    with BackgroundEmulator(Config(seed=42, scale="tiny", qps=0, qpd=0)) as emulator:
        local = emulator_settings(settings, emulator.url).model_copy(update={"etsy_qps": 0, "etsy_qpd": 0})
        with open_runtime(local, upgrade=False) as runtime:
            access = build_access(local, runtime.repos.tokens, retry=RetryPolicy(8, 0.01, 0.05))
            sellers = httpx.get(f"{emulator.url}/_emulator/credentials").json()["users"]
            assert len(sellers) >= 2
            try:
                yield Site(emulator, runtime, access, sellers)
            finally:
                access.close()


def _etsy_ids(site: Site, seller: int) -> tuple[int, int]:
    """The seller's Etsy user id and shop id, from the emulator's own world."""
    email = site.sellers[seller]["email"]
    world = site.emulator.state.world
    user = next(u for u in world.users.values() if u.email == email)
    shop = next(s for s in world.shops.values() if s.user_id == user.user_id)
    return user.user_id, shop.shop_id


def test_another_accounts_email_is_refused_and_nothing_is_overwritten(site: Site) -> None:
    a_email = site.sellers[0]["email"]
    first = site.connect(0, a_email)
    assert (first.etsy_user_id, first.etsy_shop_id) == _etsy_ids(site, 0)
    before_users = site.rows("SELECT id, email, etsy_user_id FROM core.users ORDER BY id")
    before_shops = site.rows("SELECT id, user_id, etsy_shop_id FROM core.shops ORDER BY id")
    before_token = site.token(first.user_id)

    # Seller B authorizes, but A's e-mail is typed: refused, before any token or shop is stored.
    with pytest.raises(AccountMismatchError, match="another user") as refused:
        site.connect(1, f"  {a_email.upper()} ")
    assert str(_etsy_ids(site, 1)[0]) in str(refused.value)
    assert site.rows("SELECT id, email, etsy_user_id FROM core.users ORDER BY id") == before_users
    assert site.rows("SELECT id, user_id, etsy_shop_id FROM core.shops ORDER BY id") == before_shops
    assert site.token(first.user_id) == before_token
    assert site.rows("SELECT count(*) FROM core.oauth_tokens") == [(1,)]


def test_the_same_account_is_the_same_user_whatever_email_is_typed(site: Site) -> None:
    first = site.connect(0, site.sellers[0]["email"])
    again = site.connect(0, "someone-else@example.com")
    assert again.user_id == first.user_id and again.shop_id == first.shop_id
    assert again.email == site.sellers[0]["email"]  # the account's user keeps its e-mail
    assert site.rows("SELECT count(*) FROM core.users") == [(1,)]
    b = site.connect(1, None)  # no e-mail typed: the account still gets a user of its own
    assert (b.etsy_user_id, b.etsy_shop_id) == _etsy_ids(site, 1)
    assert b.user_id != first.user_id
    owners = dict(
        site.rows("SELECT etsy_shop_id, u.etsy_user_id FROM core.shops s JOIN core.users u ON u.id = s.user_id")
    )
    assert owners == {_etsy_ids(site, i)[1]: _etsy_ids(site, i)[0] for i in (0, 1)}


def test_an_email_registered_by_hand_is_claimed_by_the_first_account(site: Site) -> None:
    typed = "agency-client@example.com"
    user = site.runtime.repos.users.create(typed)
    done = site.connect(1, typed)
    assert done.user_id == user.id
    assert site.rows(f"SELECT etsy_user_id FROM core.users WHERE id = {user.id}") == [(_etsy_ids(site, 1)[0],)]
    with pytest.raises(AccountMismatchError):
        site.connect(0, typed)  # now it is account B's e-mail


def test_a_refused_authorization_fails_at_once_with_the_reason(site: Site) -> None:
    """The emulator refuses an unknown seller without redirecting: the error names Etsy's reason (the timeout
    path would say that no authorization came back)."""
    with pytest.raises(AuthorizationFailed, match=re.escape("No seller with e-mail nobody@example.com")):
        authorize(site.access, email="nobody@example.com", announce=lambda _: None, timeout=3600)
    assert site.rows("SELECT count(*) FROM core.users") == [(0,)]
