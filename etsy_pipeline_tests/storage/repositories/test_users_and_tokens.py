from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from etsy_pipeline.storage.crypto import Cipher, generate_key
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.keys import rotate_keys
from etsy_pipeline.storage.models import OAuthToken
from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline.storage.repositories.users import TokenRepository

EXPIRES = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def test_users_are_unique_by_normalised_email(repos: Repositories) -> None:
    user = repos.users.create("Seller@Example.com", display_name="Seller")
    assert user.email == "seller@example.com"
    assert repos.users.get_or_create("seller@example.com ").id == user.id
    with pytest.raises(InvalidArgumentError, match="email must be an e-mail address, got 'seller'"):
        repos.users.create("seller")


def test_tokens_are_stored_encrypted_and_replaced_on_refresh(db: Database, repos: Repositories) -> None:
    user = repos.users.create("seller@example.com")
    repos.tokens.save(
        user.id,
        access_token="123.access-one",
        refresh_token="123.refresh-one",
        access_expires_at=EXPIRES,
        refresh_expires_at=EXPIRES + timedelta(days=90),
        scopes=["listings_r", "transactions_r"],
    )
    with db.session() as session:
        row = session.scalars(select(OAuthToken)).one()
        assert b"access-one" not in row.access_token_encrypted
        assert b"refresh-one" not in row.refresh_token_encrypted
    repos.tokens.save(
        user.id,
        access_token="123.access-two",
        refresh_token="123.refresh-two",
        access_expires_at=EXPIRES + timedelta(hours=1),
        refresh_expires_at=None,
        scopes=["listings_r"],
    )
    pair = repos.tokens.get(user.id)
    assert (pair.access_token, pair.refresh_token, pair.scopes) == ("123.access-two", "123.refresh-two", ["listings_r"])
    assert "access-two" not in repr(pair) and "refresh-two" not in repr(pair)


def test_revoked_tokens_are_marked(repos: Repositories) -> None:
    user = repos.users.create("seller@example.com")
    with pytest.raises(NotFoundError, match="etsy-pipeline connect"):
        repos.tokens.get(user.id)
    repos.tokens.save(
        user.id, access_token="a", refresh_token="r", access_expires_at=EXPIRES, refresh_expires_at=None, scopes=[]
    )
    repos.tokens.mark_needs_reauth(user.id, "refresh_token is revoked")
    assert repos.tokens.get(user.id).status == "needs_reauth"


def test_key_rotation_rewrites_every_token(db: Database, repos: Repositories, encryption_key: str) -> None:
    for n in range(3):
        user = repos.users.create(f"s{n}@example.com")
        repos.tokens.save(
            user.id,
            access_token=f"a{n}",
            refresh_token=f"r{n}",
            access_expires_at=EXPIRES,
            refresh_expires_at=None,
            scopes=[],
        )
    new_key = generate_key()
    counts = rotate_keys(db, Cipher(f"{new_key},{encryption_key}"), batch_size=2)
    assert counts["oauth_tokens"] == 3
    only_new = TokenRepository(db, Cipher(new_key))
    assert sorted(only_new.get(u).access_token for u in _user_ids(db)) == ["a0", "a1", "a2"]


def _user_ids(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(OAuthToken.user_id)))
