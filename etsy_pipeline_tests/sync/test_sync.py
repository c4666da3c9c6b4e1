from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from etsy_pipeline.emulator.activity import cancel
from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.sources.etsy.context import SECOND_LOOKS
from etsy_pipeline_tests.sync.conftest import Installation, actual, assert_matches_emulator, expected


def test_a_full_sync_equals_the_emulator(tiny: Installation) -> None:
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    assert_matches_emulator(tiny)
    currencies = {c for (c,) in tiny.core("SELECT DISTINCT currency_code FROM core.orders")}
    assert currencies == {"USD", "EUR"}
    name = tiny.core("SELECT shop_name, currency_code FROM core.shops ORDER BY etsy_shop_id")
    assert [tuple(r) for r in name] == [(s.shop_name, s.currency.code) for s in tiny.state.world.shops.values()]


def _pages(n: int) -> int:
    return max(1, -(-n // 100))


def test_incremental_fetches_only_what_changed_and_converges(tiny: Installation) -> None:
    tiny.sync_all()
    receipts = tiny.state.world.receipts

    def of(shop: int) -> list[Receipt]:
        return [r for r in receipts.values() if r.shop_id == shop]

    cursors = {s.etsy_shop_id: max(r.updated for r in of(s.etsy_shop_id)) for s in tiny.shops}
    calls_before = tiny.stats()["calls"]["getShopReceipts"]
    summary = tiny.admin("advance", hours=36)
    assert summary["new_receipts"] > 0
    results = tiny.sync_all()
    assert {r.status for r in results} == {"succeeded"}
    assert_matches_emulator(tiny)
    settings = tiny.runtime.settings
    expected_calls = 0
    for shop, result in zip(tiny.shops, results, strict=True):
        mine = of(shop.etsy_shop_id)
        high = max(r.updated for r in mine)
        changed = {
            r.receipt_id for r in mine if r.updated >= cursors[shop.etsy_shop_id] - settings.sync_lookback_hours * 3600
        }
        # 36 hours after the first run, the deep re-read of recently created receipts is due as well.
        recent = {r.receipt_id for r in mine if r.created >= high - settings.sync_deep_reread_days * 86_400}
        assert result.fetched["receipts"] == len(changed | recent)  # what changed, the look-back, the deep read
        assert len(changed | recent) < len(mine) / 3
        expected_calls += 1 + _pages(len(changed)) + _pages(len(recent))  # newest change, then both reads
    assert tiny.stats()["calls"]["getShopReceipts"] - calls_before == expected_calls


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


def test_an_unstamped_change_inside_the_look_back_window_is_read_again(tiny: Installation) -> None:
    """A change Etsy neither stamps nor records anywhere else (no ledger trace): only the look-back finds it, on
    the second look at the receipt once its last stamp is `lookback` old."""
    tiny.runtime = replace(tiny.runtime, settings=tiny.runtime.settings.model_copy(update={"sync_deep_reread_days": 0}))
    lookback = tiny.runtime.settings.sync_lookback_hours * 3600
    tiny.sync_all()
    shop = tiny.shops[0]
    assert tiny.sync(0).status == "succeeded"  # the first incremental run places the second look's cursor
    mine = sorted(
        (r for r in tiny.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id), key=lambda r: r.updated
    )
    cursor = mine[-1].updated
    older = [r for r in mine if cursor - lookback <= r.updated < cursor and r.status == "paid"]
    assert older, "the look-back window holds an open order before the cursor"
    victim = older[0]
    stamp = victim.updated
    with tiny.state.lock:
        victim.is_paid = False  # an unpaid order: canceling it moves no money, so no ledger entry
        cancel(tiny.state, victim, tiny.state.clock.now(), stamp=False)
    assert victim.updated == stamp < cursor

    def status() -> str:
        return str(tiny.core("SELECT status FROM core.orders WHERE etsy_receipt_id = :r", r=victim.receipt_id)[0][0])

    tiny.admin("advance", hours=1)
    assert tiny.sync(0).status == "succeeded"
    assert status() == "paid"  # unstamped: the read of new changes cannot see it
    tiny.admin("advance", hours=lookback // 3600 + 1)
    assert tiny.sync(0).status == "succeeded"  # reads the new changes; its stored cursor moves past stamp + lookback
    for _ in SECOND_LOOKS:  # one second look a run, the most overdue first: the receipts' comes within these runs
        assert tiny.sync(0).status == "succeeded"
        if status() == "canceled":
            break
    assert status() == "canceled"
    assert actual(tiny, shop.shop_id) == expected(tiny.state, shop.etsy_shop_id)
    # The buyer's lifetime figures leave the canceled order out.
    theirs = [r for r in mine if r.buyer_user_id == victim.buyer_user_id and r.status != "canceled"]
    divisor = tiny.state.world.shops[shop.etsy_shop_id].currency.divisor
    customer = tiny.core(
        "SELECT order_count, total_spent FROM core.customers WHERE shop_id = :s AND etsy_buyer_user_id = :b",
        s=shop.shop_id,
        b=victim.buyer_user_id,
    )
    spent = sum(Decimal(r.grandtotal - r.refunded) for r in theirs) / divisor
    assert [tuple(c) for c in customer] == ([(len(theirs), spent)] if theirs else [])
