from __future__ import annotations

from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected


def test_a_full_sync_equals_the_emulator(tiny: Installation) -> None:
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    assert_matches_emulator(tiny)
    currencies = {c for (c,) in tiny.core("SELECT DISTINCT currency_code FROM core.orders")}
    assert currencies == {"USD", "EUR"}
    name = tiny.core("SELECT shop_name, currency_code FROM core.shops ORDER BY etsy_shop_id")
    assert [tuple(r) for r in name] == [(s.shop_name, s.currency.code) for s in tiny.state.world.shops.values()]


def test_incremental_fetches_only_what_changed_and_converges(tiny: Installation) -> None:
    tiny.sync_all()
    shop = tiny.shops[0].etsy_shop_id
    receipts = tiny.state.world.receipts
    cursor = max(r.updated for r in receipts.values() if r.shop_id == shop)
    calls_before = tiny.stats()["calls"]["getShopReceipts"]
    summary = tiny.admin("advance", hours=36)
    assert summary["new_receipts"] > 0
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    assert_matches_emulator(tiny)
    window_start = cursor - tiny.runtime.settings.sync_lookback_hours * 3600
    changed = [r for r in receipts.values() if r.shop_id == shop and r.updated >= window_start]
    assert results[0].fetched["receipts"] == len(changed)  # what changed, plus the look-back window
    assert len(changed) < len([r for r in receipts.values() if r.shop_id == shop]) / 3
    receipt_calls = tiny.stats()["calls"]["getShopReceipts"] - calls_before
    assert receipt_calls == 2 * len(tiny.shops)  # per shop: the newest change, then one page


def test_a_second_run_without_changes_writes_nothing(tiny: Installation) -> None:
    tiny.sync_all()
    again = tiny.sync_all()
    for result in again:
        assert result.status == "succeeded"
        assert result.rows.get("orders", 0) == 0
        assert result.rows.get("order_items", 0) == 0
        assert result.rows.get("customers", 0) == 0
        assert result.rows.get("inventory", 0) == 0
    assert_matches_emulator(tiny)


def test_rerunning_in_full_is_idempotent(tiny: Installation) -> None:
    tiny.sync_all()
    before = [actual(tiny, s.shop_id) for s in tiny.shops]
    tiny.sync_all(full=True)
    assert [actual(tiny, s.shop_id) for s in tiny.shops] == before
    duplicates = tiny.core("SELECT count(*) - count(DISTINCT receipt_id) FROM etsy_raw.receipts")[0][0]
    assert duplicates == 0


def test_an_unstamped_refund_is_caught_by_the_look_back(tiny: Installation) -> None:
    tiny.sync_all()
    shop = tiny.shops[0]
    newest = tiny.newest_refundable(shop.etsy_shop_id)
    tiny.admin("advance", hours=1)
    answer = tiny.admin("refund", receipt_id=newest.receipt_id, amount=500)
    assert answer["updated_timestamp"] == newest.updated  # Etsy did not stamp it
    tiny.sync(0)
    refunded = tiny.core(
        "SELECT refunded_amount, status FROM core.orders WHERE etsy_receipt_id = :r", r=newest.receipt_id
    )
    divisor = tiny.state.world.shops[shop.etsy_shop_id].currency.divisor
    assert tuple(refunded[0]) == (500 / divisor, "partially refunded")
    assert actual(tiny, shop.shop_id) == expected(tiny.state, shop.etsy_shop_id)
