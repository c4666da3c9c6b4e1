"""ANALYTICS_DATABASE_URL: analyst reads go to a read replica, read-only; everything else stays on DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from etsy_pipeline.runtime import open_runtime
from etsy_pipeline.settings import Settings, load_settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.transform.analytics import rebuild_all
from etsy_pipeline_tests.sync.conftest import Installation

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_analyst_reads_go_to_the_replica_and_nothing_writes_there(tiny: Installation, tmp_path: Path) -> None:
    tiny.sync_all()
    shop = tiny.shops[0]
    day = datetime.fromtimestamp(
        max(r.created for r in tiny.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id), tz=UTC
    ).date()
    with tiny.runtime.db.engine.begin() as conn:
        rebuild_all(conn, day, tz="UTC", default_threshold=5)
    base = tiny.runtime.settings
    # The same server stands in for a replica here: what matters is which engine serves which read.
    settings: Settings = load_settings(
        database_url=tiny.runtime.db.url, analytics_database_url=tiny.runtime.db.url, redis_url=REDIS_URL,
        token_encryption_key=base.token_encryption_key, data_dir=tmp_path / "data", _env_file=None,
    )  # fmt: skip
    with open_runtime(settings, upgrade=False) as runtime:
        analytics_db = runtime.repos.analytics.db
        assert analytics_db is not runtime.db  # a connection of its own
        rows = runtime.repos.analytics.daily_metrics(shop.user_id, shop.shop_id, day, day)
        expected = tiny.core(
            "SELECT orders, etsy_fees, net_revenue_after_fees FROM analytics.shop_daily_metrics "
            "WHERE shop_id = :s AND metric_date = :d",
            s=shop.shop_id,
            d=day,
        )
        assert [(r.orders, r.etsy_fees, r.net_revenue_after_fees) for r in rows] == [tuple(e) for e in expected]
        assert rows
        with pytest.raises(DBAPIError, match="read-only transaction"), analytics_db.engine.begin() as conn:
            conn.execute(text("UPDATE core.shops SET shop_name = shop_name"))
        with runtime.db.engine.begin() as conn:  # the main connection still writes
            conn.execute(text("UPDATE core.shops SET shop_name = shop_name"))


def test_without_the_setting_analyst_reads_share_the_main_database(settings: Settings) -> None:
    assert settings.analytics_database_url is None
    assert Database.analytics_replica(settings) is None
