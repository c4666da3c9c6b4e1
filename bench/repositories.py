"""Repository benchmark: cached vs uncached read latency, and bulk upsert throughput.

    .venv/bin/python bench/repositories.py [--listings 100000] [--reads 500]

Creates a throwaway database on the PostgreSQL at BENCH_DATABASE_ADMIN_URL (default the local server), applies
the migrations, loads one shop with N listings and 90 days of metrics, then prints:
- p50/p95 of `shops.get`, `listings.by_shop` (a page of 100) and `analytics.daily_metrics` (90 days), each
  uncached (no Redis) and cached (Redis at BENCH_REDIS_URL, warmed);
- rows/s of `bulk_upsert` inserting N listings, then re-upserting them unchanged and with every price changed.
Figures are printed, never asserted; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import p50_p95_ms, throwaway_database
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Listing, ShopDailyMetrics
from etsy_pipeline.storage.partitions import ensure_shop_daily_metrics_partitions
from etsy_pipeline.storage.repositories import (
    AnalyticsRepository,
    ListingRepository,
    ShopRepository,
    UserRepository,
)
from etsy_pipeline.storage.upsert import bulk_upsert

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LISTINGS: Table = table_of(Listing)
METRICS: Table = table_of(ShopDailyMetrics)


def measure(call: Callable[[], object], reads: int) -> tuple[float, float]:
    call()  # warm (and fill the cache when there is one)
    samples = []
    for _ in range(reads):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return p50_p95_ms(samples)


def listing_rows(shop_id: int, n: int, price: Decimal) -> list[dict[str, Any]]:
    return [
        {
            "etsy_listing_id": 10_000_000 + i,
            "shop_id": shop_id,
            "title": f"Handmade item {i} in stoneware and linen",
            "description": "A longer description of the item, its materials and its care. " * 3,
            "state": "active" if i % 10 else "inactive",
            "price": price + Decimal(i % 50),
            "currency_code": "USD",
            "quantity": i % 30,
            "tags": ["handmade", f"tag{i % 40}", "gift"],
        }
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=500)
    args = parser.parse_args()

    with throwaway_database("etsy_pipeline_bench") as url:
        run(args, url)
    return 0


def run(args: argparse.Namespace, url: str) -> None:
    db = Database(url)
    try:
        migrate.upgrade(url)
        user = UserRepository(db).create("bench@example.com")
        uncached_shops = ShopRepository(db, Cache(None))
        shop = uncached_shops.create(user.id, etsy_shop_id=1, shop_name="Bench")

        print(f"bulk upsert, {args.listings:,} listings, COPY-staged batches of 10,000, one transaction")
        for label, price in (("insert", Decimal("10")), ("unchanged", Decimal("10")), ("all changed", Decimal("11"))):
            rows = listing_rows(shop.id, args.listings, price)
            started = time.perf_counter()
            with db.engine.begin() as conn:
                written = bulk_upsert(conn, LISTINGS, rows, key=["etsy_listing_id"])
            elapsed = time.perf_counter() - started
            rate = args.listings / elapsed
            print(f"  {label:<12} {written:>8,} rows written  {elapsed:6.2f} s  {rate:>9,.0f} rows/s")

        end = date(2026, 3, 31)
        start = end - timedelta(days=89)
        with db.engine.begin() as conn:
            ensure_shop_daily_metrics_partitions(conn, start, end)
            bulk_upsert(
                conn,
                METRICS,
                [
                    {"shop_id": shop.id, "metric_date": start + timedelta(days=d), "currency_code": "USD", "orders": d}
                    for d in range(90)
                ],
                key=["shop_id", "metric_date", "currency_code"],
            )
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))

        print(f"\nread latency, {args.reads} reads each, milliseconds (p50 / p95)")
        cached_cache = Cache(REDIS_URL, namespace=f"bench:{uuid.uuid4().hex}")
        for label, cache in (("uncached", Cache(None)), ("cached", cached_cache)):
            shops = ShopRepository(db, cache)
            listings = ListingRepository(db, cache)
            analytics = AnalyticsRepository(db, cache)
            calls: list[tuple[str, Callable[[], object]]] = [
                ("shop", partial(shops.get, user.id, shop.id)),
                ("100 listings", partial(listings.by_shop, user.id, shop.id, state="active", limit=100)),
                ("90 days metrics", partial(analytics.daily_metrics, user.id, shop.id, start, end)),
            ]
            for what, call in calls:
                p50, p95 = measure(call, args.reads)
                print(f"  {label:<9} {what:<16} {p50:7.3f} / {p95:7.3f}")
        cached_cache.close()
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
