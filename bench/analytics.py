"""Analytics benchmark: rebuilding one day, backfilling two years set-based, and the analyst views' latency.

    .venv/bin/python bench/analytics.py [--shops 100] [--days 730] [--orders-per-day 7] [--reads 200]
        [--backfill-days N] [--day-by-day-days 30]

Creates a throwaway database at migration head and fills `core` with SQL (generate_series) for N shops over D
days: orders with one or two line items, repeat buyers, refunds, listings and a daily snapshot per listing.
Then prints: the time to rebuild one day for every shop (with the customer snapshot, as the latest day of a run
has, and without it, as a mid-month day of a range); the daily tables of a short range rebuilt the old way, day
by day (each day in its own transaction), and as one range, for comparison; the time of `etsy-pipeline
backfill` over the whole range (set-based: the customer snapshots and their segments in one statement, while a
second connection rebuilds the daily tables a month per statement); and p50/p95 of the three analyst views.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import p50_p95_ms, throwaway_database
from etsy_pipeline.runtime import open_runtime
from etsy_pipeline.settings import load_settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.transform.analytics import (
    rebuild_all,
    rebuild_inventory_alert_days,
    rebuild_inventory_alerts,
    rebuild_listing_day,
    rebuild_listing_days,
    rebuild_range,
    rebuild_shop_day,
    rebuild_shop_days,
)
from etsy_pipeline.transform.backfill import backfill

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")  # the backfill clears cached reads

FILL = """
INSERT INTO core.users (email) SELECT 'bench' || n || '@example.com' FROM generate_series(1, :shops) n;
INSERT INTO core.shops (etsy_shop_id, user_id, shop_name, currency_code)
    SELECT 40000000 + n, n, 'BenchShop' || n, 'USD' FROM generate_series(1, :shops) n;
INSERT INTO core.listings (etsy_listing_id, shop_id, title, state, price, currency_code, quantity, views, num_favorers)
    SELECT 1000000000 + s * 1000 + l, s, 'Listing ' || l, 'active', 20 + l, 'USD', l % 30, 0, 0
    FROM generate_series(1, :shops) s, generate_series(1, :listings) l;
INSERT INTO core.orders (etsy_receipt_id, shop_id, etsy_buyer_user_id, status, is_paid, currency_code, grandtotal,
        subtotal, total_price, total_shipping_cost, discount_amt, refunded_amount, etsy_created_at)
    SELECT 2000000000 + row_number() OVER (), s, 600000000 + s * 100000 + (hashint4(d * 31 + k) & 4095),
        CASE WHEN (d + k) % 50 = 0 THEN 'canceled' ELSE 'completed' END, true, 'USD', 30 + k, 25 + k, 25 + k,
        5, 0, CASE WHEN (d + k) % 33 = 0 THEN 10 ELSE 0 END,
        (CAST(:start AS date) + d)::timestamp AT TIME ZONE 'UTC' + make_interval(secs => (k * 3571) % 86400)
    FROM generate_series(1, :shops) s, generate_series(0, :days - 1) d, generate_series(1, :per_day) k;
INSERT INTO core.order_items (etsy_transaction_id, order_id, listing_id, etsy_listing_id, quantity, price,
        currency_code)
    SELECT 3000000000 + o.id, o.id, l.id, l.etsy_listing_id, 1, o.total_price, 'USD'
    FROM core.orders o JOIN core.listings l
      ON l.shop_id = o.shop_id AND l.etsy_listing_id = 1000000000 + o.shop_id * 1000 + 1 + (o.id % :listings);
INSERT INTO core.listing_snapshots (listing_id, snapshot_date, views, num_favorers, quantity, state)
    SELECT l.id, CAST(:start AS date) + d, d * 7 + (l.id % 11) * d, d / 5, l.quantity, 'active'
    FROM core.listings l, generate_series(0, :days - 1) d;
ANALYZE;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=100)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--orders-per-day", type=int, default=7)
    parser.add_argument("--listings", type=int, default=20)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--backfill-days", type=int, help="backfill only the last N days (default: all)")
    parser.add_argument("--day-by-day-days", type=int, default=30, help="days rebuilt one by one, for comparison")
    args = parser.parse_args()
    start = date.today() - timedelta(days=args.days)  # the data ends yesterday, as the views expect
    with throwaway_database("etsy_pipeline_analytics_bench") as url, tempfile.TemporaryDirectory() as data_dir:
        run(args, url, start, Path(data_dir))
    return 0


def _median_seconds(action: Callable[[], object], repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def compare_daily_tables(engine: Engine, last: date, days: int) -> None:
    """The daily tables (shop and listing metrics, alerts) of the `days` days up to `last`, rebuilt the old way,
    day by day in a transaction each, then as one range; customer snapshots are left out of both, since a range
    builds them only for its month ends and last day (they are timed with the one-day rebuild above)."""
    first = last - timedelta(days=days - 1)
    began = time.perf_counter()
    for n in range(days):
        with engine.begin() as conn:
            day = first + timedelta(days=n)
            rebuild_shop_day(conn, day)
            rebuild_listing_day(conn, day)
            rebuild_inventory_alerts(conn, day, default_threshold=5)
    by_day = time.perf_counter() - began
    print(f"daily tables of the last {days} days, day by day: {by_day:.1f} s ({by_day / days * 1000:.0f} ms per day)")
    began = time.perf_counter()
    with engine.begin() as conn:
        rebuild_shop_days(conn, first, last)
        rebuild_listing_days(conn, first, last)
        rebuild_inventory_alert_days(conn, first, last, default_threshold=5)
    ranged = time.perf_counter() - began
    print(f"daily tables of the same {days} days as one range: {ranged:.1f} s ({by_day / ranged:.1f}x faster)")


def run(args: argparse.Namespace, url: str, start: date, data_dir: Path) -> None:
    engine = create_engine(url)
    try:
        migrate.upgrade(url)
        started = time.perf_counter()
        with engine.begin() as conn:
            params = {
                "shops": args.shops,
                "days": args.days,
                "per_day": args.orders_per_day,
                "listings": args.listings,
                "start": start,
            }
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), params)
            orders = conn.execute(text("SELECT count(*) FROM core.orders")).scalar_one()
        print(
            f"filled {args.shops} shops x {args.days} days: {orders:,} orders in {time.perf_counter() - started:.1f} s"
        )

        last = start + timedelta(days=args.days - 1)
        rows: dict[str, int] = {}

        def one_day() -> None:
            with engine.begin() as conn:
                rows.update(rebuild_range(conn, last, last, tz="UTC", default_threshold=5))

        print(
            f"rebuild one day, all shops, with the customer snapshot: median {_median_seconds(one_day):.2f} s ({rows})"
        )

        def mid_month_day() -> None:
            with engine.begin() as conn:
                rebuild_all(conn, last - timedelta(days=3), tz="UTC", default_threshold=5, last_day_of_run=last)

        mid = _median_seconds(mid_month_day)
        print(f"rebuild one mid-month day of a range (no customer snapshot): median {mid:.2f} s")

        compare_daily_tables(engine, last, min(args.day_by_day_days, args.days))

        span = args.backfill_days or args.days
        settings = load_settings(
            database_url=url, data_dir=data_dir, redis_url=REDIS_URL, low_stock_threshold=5, _env_file=None
        )
        with open_runtime(settings, upgrade=False) as runtime:
            began = time.perf_counter()
            totals = backfill(runtime, last - timedelta(days=span - 1), last)
            took = time.perf_counter() - began
        print(f"backfill {span} days set-based: {took:.1f} s ({took / span * 1000:.0f} ms per day; {totals})")

        for view in ("sales_last_30_days", "best_listings_last_30_days", "segment_sizes"):
            samples = []
            for n in range(args.reads):
                began = time.perf_counter()
                with engine.connect() as conn:
                    conn.execute(
                        text(f"SELECT * FROM analytics.{view} WHERE shop_id = :s"), {"s": 1 + n % args.shops}
                    ).all()
                samples.append(time.perf_counter() - began)
            p50, p95 = p50_p95_ms(samples)
            print(f"view {view:<28} one shop: p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
