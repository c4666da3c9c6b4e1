"""The pull's correctness floor: no silent loss with a new or restored database, overlapping runs, changes Etsy
does not stamp, or a cursor that ran ahead. Every expectation comes from the emulator's own objects."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import httpx
from sqlalchemy import text

from etsy_pipeline.emulator.activity import cancel
from etsy_pipeline.etsy.client import RetryPolicy
from etsy_pipeline.runtime import open_runtime
from etsy_pipeline.sync.clients import build_access
from etsy_pipeline.sync.connect import authorize, record_connection
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline_tests.support.databases import _admin, create_database, drop_database
from etsy_pipeline_tests.sync.conftest import Installation, assert_matches_emulator
from etsy_pipeline_tests.transform.test_analytics import _day, _expected_day, _rebuild, _row


@contextmanager
def elsewhere(inst: Installation, url: str) -> Iterator[Installation]:
    """The same emulator and DATA_DIR, another database: its sellers connected again through OAuth."""
    settings = inst.runtime.settings.model_copy(update={"database_url": url})
    with open_runtime(settings) as runtime:
        access = build_access(settings, runtime.repos.tokens, retry=RetryPolicy(8, 0.01, 0.05))
        sellers = httpx.get(f"{inst.emulator.url}/_emulator/credentials").json()["users"]
        shops = [
            record_connection(runtime, access, authorize(access, email=s["email"], announce=lambda _: None), s["email"])
            for s in sellers
        ]
        try:
            yield Installation(inst.emulator, runtime, access, shops)
        finally:
            access.close()


def test_a_new_database_beside_the_same_data_dir_is_pulled_in_full(tiny: Installation) -> None:
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    assert_matches_emulator(tiny)
    url = create_database("etsy_pipeline_floor_b")
    try:
        with elsewhere(tiny, url) as other:
            assert {r.status for r in other.sync_all()} == {"succeeded"}
            assert_matches_emulator(other)
            shutil.rmtree(other.runtime.settings.data_dir, ignore_errors=True)  # DATA_DIR gone between runs
            tiny.admin("advance", hours=30)
            assert {r.status for r in other.sync_all()} == {"succeeded"}
            assert_matches_emulator(other)
    finally:
        drop_database("etsy_pipeline_floor_b")


def test_a_database_restored_from_before_a_day_of_activity_catches_up(tiny: Installation) -> None:
    tiny.sync_all()
    source = tiny.runtime.db.url.rsplit("/", 1)[1].split("?")[0]
    with _admin().connect() as conn:  # a copy as a restore would give it: the same rows, the same cursors
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": source})
        conn.execute(text(f'CREATE DATABASE etsy_pipeline_floor_copy TEMPLATE "{source}"'))
    try:
        tiny.admin("advance", hours=26)
        assert {r.status for r in tiny.sync_all()} == {"succeeded"}
        assert_matches_emulator(tiny)
        url = tiny.runtime.db.url.replace(f"/{source}", "/etsy_pipeline_floor_copy")
        with elsewhere(tiny, url) as restored:
            results = restored.sync_all()
            assert {r.status for r in results} == {"succeeded"}
            assert all(r.fetched.get("receipts", 0) > 0 for r in results)  # the day after the copy was read
            assert_matches_emulator(restored)
    finally:
        drop_database("etsy_pipeline_floor_copy")


def test_two_syncs_of_one_shop_at_once_run_one_after_the_other_never_together(tiny: Installation) -> None:
    tiny.admin("faults", latency_rate=1.0, latency_ms=30)
    shop = tiny.shops[0].etsy_shop_id
    first = tiny.sync_process(shop, SYNC_LOCK_WAIT_SECONDS="0")
    time.sleep(0.3)
    second = tiny.sync_process(shop, SYNC_LOCK_WAIT_SECONDS="0")
    codes = sorted(p.wait(timeout=120) for p in (first, second))
    assert codes == [0, SyncStatus.SKIPPED.exit_code]
    runs = tiny.core("SELECT status FROM core.sync_runs WHERE shop_id = :s ORDER BY id", s=tiny.shops[0].shop_id)
    assert sorted(status for (status,) in runs) == ["skipped", "succeeded"]
    tiny.admin("faults", latency_rate=0.0)
    tiny.admin("advance", hours=10)
    assert tiny.sync(0).status == "succeeded"
    assert tiny.sync(1).status == "succeeded"
    assert_matches_emulator(tiny)


def test_a_sync_killed_after_its_package_exists_is_loaded_by_the_next_run(tiny: Installation) -> None:
    shop = tiny.shops[0]
    die = "import os, signal, dlt\ndlt.Pipeline.load = lambda self, *a, **k: os.kill(os.getpid(), signal.SIGKILL)"
    child = tiny.sync_process(shop.etsy_shop_id, prelude=die)
    assert child.wait(timeout=120) == -signal.SIGKILL
    left = list((tiny.runtime.settings.data_dir.resolve() / "dlt" / "runs" / f"shop_{shop.etsy_shop_id}").iterdir())
    assert len(left) == 1 and list(left[0].rglob("*.csv"))  # a normalized package waits to be loaded
    assert (left[0] / "progress.json").exists()
    running = tiny.core("SELECT id, status FROM core.sync_runs WHERE shop_id = :s", s=shop.shop_id)
    assert [status for _, status in running] == ["running"]
    assert tiny.core("SELECT count(*) FROM core.orders")[0][0] == 0
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert result.recovered_loads  # the dead run's package, loaded and shaped first
    total = sum(1 for r in tiny.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id)
    assert result.fetched.get("receipts", 0) < total / 3  # its cursors were kept: only the look-back is read again
    status = tiny.core("SELECT status FROM core.sync_runs WHERE id = :i", i=running[0][0])[0][0]
    assert status == "abandoned"
    assert not left[0].exists()
    tiny.sync(1)
    assert_matches_emulator(tiny)


def test_a_refund_weeks_after_delivery_and_an_unstamped_cancellation_reach_core_and_analytics(
    tiny: Installation,
) -> None:
    # Only the ledger can find these: no deep re-read, no second look.
    only_ledger = {"sync_deep_reread_days": 0, "sync_lookback_hours": 0}
    tiny.runtime = replace(tiny.runtime, settings=tiny.runtime.settings.model_copy(update=only_ledger))
    tiny.sync_all()
    shop = tiny.shops[0]
    world = tiny.state.world
    delivered = min(
        (r for r in world.receipts.values() if r.shop_id == shop.etsy_shop_id and r.is_delivered and not r.refunds),
        key=lambda r: r.updated,
    )
    tiny.admin("advance", hours=20 * 24)
    tiny.sync_all()
    open_orders = [r for r in world.receipts.values() if r.shop_id == shop.etsy_shop_id and r.status == "paid"]
    victim = min(open_orders, key=lambda r: r.updated)  # oldest change: far behind the cursor
    stamps = (delivered.updated, victim.updated)
    refunded = tiny.admin("refund", receipt_id=delivered.receipt_id, amount=delivered.grandtotal)
    with tiny.state.lock:
        cancel(tiny.state, victim, tiny.state.clock.now(), stamp=False)
    assert (refunded["updated_timestamp"], victim.updated) == stamps  # Etsy stamped neither
    assert tiny.core("SELECT max(value) FROM core.sync_cursors WHERE resource = 'receipts'")[0][0] > max(stamps)
    tiny.admin("advance", hours=1)
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert tiny.sync(1).status == "succeeded"
    assert result.reread_receipts >= 2
    rows = dict(tiny.core("SELECT etsy_receipt_id, status FROM core.orders WHERE etsy_receipt_id IN (:a, :b)",
                          a=delivered.receipt_id, b=victim.receipt_id))  # fmt: skip
    assert rows == {delivered.receipt_id: "fully refunded", victim.receipt_id: "canceled"}
    assert_matches_emulator(tiny)
    days: list[date] = sorted({_day(delivered.created), _day(victim.created)})
    assert set(days) <= set(result.touched_days)
    _rebuild(tiny, days)
    for day in days:
        assert _row(tiny, shop.shop_id, day) == _expected_day(tiny, shop.etsy_shop_id, day)


def test_a_cursor_forced_ahead_is_caught_by_reconciliation(tiny: Installation) -> None:
    tiny.sync_all()
    shop = tiny.shops[0]
    with tiny.runtime.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE core.sync_cursors SET value = value + 40 * 86400 WHERE shop_id = :s AND resource LIKE 'rec%'"),
            {"s": shop.shop_id},
        )
    assert tiny.admin("advance", hours=48)["new_receipts"] > 0
    broken = tiny.sync(0)
    assert broken.status == "incomplete"
    assert broken.reconciliation is not None
    counts = broken.reconciliation.counts["receipts"]
    etsy = sum(1 for r in tiny.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id)
    assert (counts.etsy, counts.core < etsy) == (etsy, True)
    assert f"of the {etsy:,} receipts" in (broken.error or "")
    assert "receipts" not in broken.cursors  # the next run reads every receipt again
    repaired = tiny.sync(0)
    assert repaired.status == "succeeded"
    tiny.sync(1)
    assert_matches_emulator(tiny)
