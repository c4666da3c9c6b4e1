"""Backfills launched as the Dagster UI launches them: shop partitions of the pull, then a range of analytics days.

Expected values come from the emulator's own objects; the code under test only supplies the asset keys.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline_tests.defs.cockpit import cockpit
from etsy_pipeline_tests.sync.conftest import Installation, assert_matches_emulator

ANALYTICS = ["shop_daily_metrics", "listing_daily_metrics", "customers", "customer_segments", "inventory_alerts"]


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _expected_days(inst: Installation, days: list[date]) -> dict[tuple[int, date], tuple[int, int]]:
    """(orders, units) per shop and UTC day, from the emulator's receipts; canceled orders do not count."""
    shop_ids = {s.etsy_shop_id: s.shop_id for s in inst.shops}
    orders: Counter[tuple[int, date]] = Counter()
    units: Counter[tuple[int, date]] = Counter()
    for receipt in inst.state.world.receipts.values():
        key = (shop_ids[receipt.shop_id], _day(receipt.created))
        if key[1] in days and receipt.status != "canceled":
            orders[key] += 1
            units[key] += sum(t.quantity for t in receipt.transactions)
    return {key: (orders[key], units[key]) for key in orders}


def test_pull_and_analytics_backfills_launched_like_the_ui_succeed(configured: Installation) -> None:
    shops = sorted(str(s.etsy_shop_id) for s in configured.shops)
    busiest = Counter(_day(r.created) for r in configured.state.world.receipts.values()).most_common(1)[0][0]
    days = [busiest - timedelta(days=1), busiest, busiest + timedelta(days=1)]
    with cockpit() as ui:
        ui.process.instance.add_dynamic_partitions("etsy_shops", shops)

        pull = ui.run_daemon_until_done(ui.launch_backfill([k.path for k in etsy_pull.keys], shops))
        assert pull["status"] == "COMPLETED_SUCCESS", pull
        assert [r["status"] for r in pull["runs"]] == ["SUCCESS"] * len(shops)
        # every pull run carries its shop in the tag the instance limits to one run per value
        tagged = sorted(t["value"] for r in pull["runs"] for t in r["tags"] if t["key"] == "dagster/partition")
        assert tagged == shops
        assert_matches_emulator(configured)

        keys = [["analytics", name] for name in ANALYTICS]
        built = ui.run_daemon_until_done(ui.launch_backfill(keys, [d.isoformat() for d in days]))
        assert built["status"] == "COMPLETED_SUCCESS", built
        assert [r["status"] for r in built["runs"]] == ["SUCCESS"]  # the single-run policy: one run per range

    rows = configured.core("SELECT shop_id, metric_date, orders, items_sold FROM analytics.shop_daily_metrics")
    actual = {(shop_id, day): (orders, units) for shop_id, day, orders, units in rows if orders}
    expected = _expected_days(configured, days)
    assert expected and actual == expected
    assert {day for _, day, _, _ in rows} <= set(days)
