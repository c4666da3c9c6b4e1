"""Analyst roles against real PostgreSQL logins: analytics only, scoped rows, and the pipeline unchanged.

Two sellers of the emulator are connected (two users, two shops). Which shop belongs to whom comes from the
emulator's world and the e-mails the sellers connected with; what a role should see is what the owner sees,
filtered by hand in SQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import psycopg.errors
import pytest
from sqlalchemy.exc import ProgrammingError

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.backfill import backfill
from etsy_pipeline_tests.factories import user_with_shop
from etsy_pipeline_tests.ops.analysts import (
    AsRole,
    execute,
    owner_rows,
    restock_example,
    role_exists,
    roles,
    run_db_command,
)
from etsy_pipeline_tests.sync.conftest import Installation, tiny

__all__ = ["tiny"]

SHOP_TABLES = ("shop_daily_metrics", "listing_daily_metrics", "customers", "customer_segments", "inventory_alerts")
SHOP_VIEWS = ("sales_last_30_days", "best_listings_last_30_days", "segment_sizes", "shops", "listings")
FORBIDDEN = ("core.oauth_tokens", "core.orders", "core.users", "core.shops", "analyst_access.scopes")


def _denied(analyst: AsRole, sql: str) -> None:
    with pytest.raises(ProgrammingError) as caught:
        analyst.rows(sql)
    assert isinstance(caught.value.orig, psycopg.errors.InsufficientPrivilege), sql


def _shop_of(inst: Installation, email: str) -> int:
    """core.shops.id of the seller's shop: the emulator says which Etsy shop is theirs."""
    world = inst.state.world
    user = next(u for u in world.users.values() if u.email == email)
    etsy_shop_id = next(s.shop_id for s in world.shops.values() if s.user_id == user.user_id)
    rows = owner_rows(
        inst.runtime.db,
        "SELECT s.id FROM core.shops s JOIN core.users u ON u.id = s.user_id "
        "WHERE s.etsy_shop_id = :e AND u.email = :m",
        e=etsy_shop_id,
        m=email,
    )
    assert len(rows) == 1
    return int(rows[0][0])


def _rebuild_analytics(inst: Installation) -> None:
    """The days that hold orders (the emulator's clock is in the past) and yesterday, for the restock example."""
    (last,) = owner_rows(inst.runtime.db, "SELECT max(created_at)::date FROM core.orders")[0]
    backfill(inst.runtime, last - timedelta(days=10), last + timedelta(days=1))
    yesterday = date.today() - timedelta(days=1)
    backfill(inst.runtime, yesterday, yesterday)


def test_analysts_read_analytics_only_and_scoped_ones_only_their_users_shops(
    tiny: Installation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = tiny.runtime.db
    emails = [s.email for s in tiny.shops]
    assert len(set(emails)) == 2
    with roles(db, "all", "a", "b") as (everyone, role_a, role_b):
        assert run_db_command(monkeypatch, db, tmp_path, "grant-analyst", everyone) == 0
        assert run_db_command(monkeypatch, db, tmp_path, "grant-analyst", role_a, "--user", emails[0]) == 0
        assert (
            run_db_command(
                monkeypatch, db, tmp_path, "grant-analyst", role_b, "--user", emails[1].upper(),
                "--password-env", "ANALYST_PW", ANALYST_PW="correct horse battery",
            )
            == 0
        )  # fmt: skip
        # The application's own connections are unchanged: a sync and an analytics rebuild after the grants.
        assert {r.status for r in tiny.sync_all()} == {"succeeded"}
        _rebuild_analytics(tiny)
        counts = {t: owner_rows(db, f"SELECT count(*) FROM analytics.{t}")[0][0] for t in SHOP_TABLES + SHOP_VIEWS}
        assert all(counts[t] > 0 for t in SHOP_TABLES + SHOP_VIEWS), counts
        shop_a, shop_b = _shop_of(tiny, emails[0]), _shop_of(tiny, emails[1])

        analysts = {role: AsRole(db, role) for role in (everyone, role_a, role_b)}
        try:
            every = analysts[everyone]
            for table in SHOP_TABLES + SHOP_VIEWS:
                assert every.rows(f"SELECT count(*) FROM analytics.{table}")[0][0] == counts[table], table
            restock = restock_example()
            assert every.rows(restock) == owner_rows(db, restock) != []

            for role, shop in ((role_a, shop_a), (role_b, shop_b)):
                analyst = analysts[role]
                for table in SHOP_TABLES + SHOP_VIEWS:
                    seen = analyst.rows(f"SELECT shop_id, count(*) FROM analytics.{table} GROUP BY shop_id")
                    expected = owner_rows(
                        db,
                        f"SELECT shop_id, count(*) FROM analytics.{table} WHERE shop_id = :s GROUP BY shop_id",
                        s=shop,
                    )
                    assert seen == expected != [], (role, table)
                for (partition,) in owner_rows(
                    db, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'shop_daily_metrics_y%'"
                ):  # reading a month partition directly does not widen the scope
                    shops = analyst.rows(f"SELECT DISTINCT shop_id FROM analytics.{partition}")
                    assert set(shops) <= {(shop,)}, partition
                assert {r[0] for r in analyst.rows(restock_example().replace("l.title", "l.shop_id"))} <= {shop}
                other = role_b if role == role_a else role_a
                assert analyst.rows("SELECT analytics.visible_shop_ids(:o)", o=other) == []

            raw_tables = owner_rows(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'etsy_raw'")
            assert len(raw_tables) > 3
            for analyst in analysts.values():
                for table in FORBIDDEN + tuple(f'etsy_raw."{t}"' for (t,) in raw_tables):
                    _denied(analyst, f"SELECT * FROM {table} LIMIT 1")
                _denied(analyst, f"DELETE FROM analytics.inventory_alerts WHERE shop_id = {shop_a}")
                _denied(analyst, "UPDATE analytics.shop_daily_metrics SET orders = 0")
                _denied(analyst, "CREATE TABLE analytics.mine (x int)")
        finally:
            for analyst in analysts.values():
                analyst.close()
        (stored,) = owner_rows(db, "SELECT rolpassword FROM pg_authid WHERE rolname = :r", r=role_b)[0]
        assert stored.startswith("SCRAM-SHA-256$") and "horse" not in stored


def test_revoke_takes_every_right_and_drops_only_the_roles_it_created(
    db: Database, repos: Repositories, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user_with_shop(repos, "client@example.com")
    with roles(db, "made", "own") as (made, own):
        execute(db, f'CREATE ROLE "{own}" LOGIN')
        assert run_db_command(monkeypatch, db, tmp_path, "grant-analyst", made) == 0
        assert run_db_command(monkeypatch, db, tmp_path, "grant-analyst", own, "--user", "client@example.com") == 0
        existing = AsRole(db, own)
        try:
            assert existing.rows("SELECT count(*) FROM analytics.shops") == [(1,)]
            assert run_db_command(monkeypatch, db, tmp_path, "revoke-analyst", own) == 0
            _denied(existing, "SELECT count(*) FROM analytics.shops")
        finally:
            existing.close()
        assert role_exists(db, own)  # it was not grant-analyst's to drop
        assert run_db_command(monkeypatch, db, tmp_path, "revoke-analyst", made) == 0
        assert not role_exists(db, made)
        assert owner_rows(
            db, "SELECT count(*) FROM analyst_access.scopes WHERE role_name IN (:a, :b)", a=made, b=own
        ) == [(0,)]


def test_every_analytics_table_has_row_level_security_and_every_view_filters(database_url: str) -> None:
    """A table or view added later without the policy would let a scoped analyst read every shop."""
    db = Database(database_url)
    try:
        unprotected = owner_rows(
            db,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND EXISTS "
            "(SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'analyst_scope'))",
        )
        assert unprotected == []
        unfiltered = owner_rows(
            db,
            "SELECT viewname FROM pg_views WHERE schemaname = 'analytics' "
            "AND definition NOT LIKE '%visible_shop_ids(CURRENT_USER)%'",
        )
        assert unfiltered == []
    finally:
        db.close()
