"""Records Etsy returns unchanged stop before dlt (`sources/etsy/digests.py`): a run where nothing changed loads
no package and costs the listing scan and a few calls; what did change still arrives, removals included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from etsy_pipeline.sources.etsy.context import SECOND_LOOKS
from etsy_pipeline.sync.reconcile import shop_row_counts
from etsy_pipeline_tests.sync.conftest import Installation, assert_matches_emulator
from etsy_pipeline_tests.sync.test_payments import assert_payments_match


def _calls(tiny: Installation) -> dict[str, int]:
    return dict(tiny.stats()["calls"])


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: n - before.get(name, 0) for name, n in after.items() if n - before.get(name, 0)}


def _listings(tiny: Installation, index: int) -> list[Any]:
    shop = tiny.shops[index].etsy_shop_id
    return [x for x in tiny.state.world.listings.values() if x.shop_id == shop]


def test_a_run_where_nothing_changed_loads_nothing_and_costs_the_listing_scan_and_a_few_calls(
    tiny: Installation,
) -> None:
    tiny.sync_all()
    assert tiny.sync(0).status == "succeeded"  # places the second looks
    before = _calls(tiny)
    result = tiny.sync(0)
    spent = _spent(before, _calls(tiny))
    assert result.status == "succeeded"
    assert result.unchanged["listings"] == result.fetched["listings"] == len(_listings(tiny, 0))
    assert "load" not in result.timings, "a run where nothing changed writes no load package"
    with tiny.runtime.db.engine.connect() as conn:  # carried from the last run, not counted again: still true
        assert result.totals == shop_row_counts(conn, tiny.shops[0].shop_id)
    assert not any(result.rows.get(t, 0) for t in ("listings", "orders", "payments", "ledger_entries", "reviews"))
    # Besides the listing scan: the shop, its sections, Etsy's newest receipt (not the cursor's second again: it
    # was read in full), the ledger and the reviews from their cursors; no payments again, and no second look is
    # due yet (their slices were only placed by the run before).
    others = {name: n for name, n in spent.items() if name != "getListingsByShop"}
    assert others == {
        "getShop": 1,
        "getShopSections": 1,
        "getShopReceipts": 1,
        "getShopPaymentAccountLedgerEntries": 1,
        "getReviewsByShop": 1,
    }
    assert_matches_emulator(tiny)


def test_a_listing_deleted_on_etsy_is_removed_in_a_run_that_loads_nothing(tiny: Installation) -> None:
    tiny.sync_all()
    assert tiny.sync(0).status == "succeeded"  # past the other shop's load: the next run has nothing to shape
    mine = sorted(_listings(tiny, 0), key=lambda x: x.listing_id)
    deleted = next(x for x in mine if x.state == "draft")  # the shop's record counts active listings only
    with tiny.state.lock:
        del tiny.state.world.listings[deleted.listing_id]
        tiny.state.changed()
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert result.unchanged["listings"] == len(mine) - 1
    assert "load" not in result.timings, "nothing else changed: the run loads nothing"
    state = tiny.core("SELECT state FROM core.listings WHERE etsy_listing_id = :l", l=deleted.listing_id)
    assert state == [("removed",)]
    live = tiny.core(
        "SELECT count(*) FROM core.listings WHERE shop_id = :s AND state <> 'removed'", s=tiny.shops[0].shop_id
    )
    assert live == [(len(mine) - 1,)]
    # Every listing the scan saw has today's snapshot, loaded or not.
    snapshots = tiny.core(
        "SELECT count(DISTINCT s.listing_id) FROM core.listing_snapshots s JOIN core.listings l ON l.id = s.listing_id "
        "WHERE l.shop_id = :s AND l.state <> 'removed' AND s.snapshot_date = (now() AT TIME ZONE 'UTC')::date",
        s=tiny.shops[0].shop_id,
    )
    assert snapshots == [(len(mine) - 1,)]


def test_a_listing_edited_among_unchanged_ones_arrives_alone(tiny: Installation) -> None:
    tiny.sync_all()
    mine = _listings(tiny, 0)
    edited = mine[0]
    with tiny.state.lock:
        edited.title = "Edited on Etsy"
        tiny.state.changed()
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert result.unchanged["listings"] == len(mine) - 1
    assert result.rows["listings"] == 1
    title = tiny.core("SELECT title FROM core.listings WHERE etsy_listing_id = :l", l=edited.listing_id)
    assert title == [("Edited on Etsy",)]
    assert_matches_emulator(tiny)


def test_one_second_look_a_run_the_most_overdue_and_each_in_turn(tiny: Installation) -> None:
    """A run takes one second look; over as many runs as there are due second looks, each gets its turn."""
    lookback = tiny.runtime.settings.sync_lookback_hours * 3600
    tiny.sync_all()
    assert tiny.sync(0).status == "succeeded"  # places the second looks
    tiny.admin("advance", hours=80)
    assert tiny.sync(0).status == "succeeded"  # the cursors move past their second looks' slices

    def cursors() -> dict[str, int]:
        rows = tiny.core("SELECT resource, value FROM core.sync_cursors WHERE shop_id = :s", s=tiny.shops[0].shop_id)
        return {name: int(value) for name, value in rows}

    start = cursors()
    due = {r for r in SECOND_LOOKS if start[r] - lookback > start[f"{r}_second_look"]}
    assert len(due) >= 2, start
    taken: list[str] = []
    for _ in due:
        before = cursors()
        assert tiny.sync(0).status == "succeeded"
        after = cursors()
        moved = [r for r in SECOND_LOOKS if after[f"{r}_second_look"] > before[f"{r}_second_look"]]
        assert len(moved) == 1, moved
        widest = max(due - set(taken), key=lambda r: before[r] - lookback - before[f"{r}_second_look"])
        assert moved == [widest]
        taken += moved
    assert set(taken) == due


def test_ledger_entries_whose_payments_did_not_come_are_followed_again_though_unchanged(tiny: Installation) -> None:
    """The quota runs out at the payments of new ledger entries: the entries load, their payments do not. The
    next run reads the same, unchanged entries again and must still follow them to their payments, a refund's
    included (its payment is in core already, without the refund)."""
    tiny.sync_all()
    tiny.admin("advance", hours=12)
    refunded = tiny.newest_refundable(tiny.shops[0].etsy_shop_id)
    tiny.admin("refund", receipt_id=refunded.receipt_id)
    tiny.admin("faults", quota_ends_at="getPaymentAccountLedgerEntryPayments")
    stopped = tiny.sync(0)
    assert stopped.status == "quota_exhausted"
    assert stopped.fetched.get("ledger_entries", 0) > 0
    tiny.admin("faults", quota_ends_at="")
    with tiny.state.lock:
        tiny.state.limiter.qpd = 0  # the next day: no limit
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    assert_payments_match(tiny)


def test_a_local_edit_etsy_never_took_is_put_back_by_the_next_pull(tiny: Installation) -> None:
    """Etsy is the source of truth: a local edit writes core at once, and when its push fails for good, the
    listing Etsy returns unchanged is still loaded again, so core shows Etsy's value."""
    tiny.sync_all()
    shop = tiny.shops[0]
    listing = _listings(tiny, 0)[0]
    tiny.runtime.repos.listings.edit(shop.user_id, listing.listing_id, {"title": "Only here"})
    with tiny.runtime.db.engine.begin() as conn:  # Etsy refused it: the push gives up
        conn.execute(
            text("UPDATE core.pending_changes SET status = 'failed' WHERE entity_id = :l"), {"l": listing.listing_id}
        )
    result = tiny.sync(0)
    assert result.status == "succeeded"
    assert result.unchanged["listings"] == len(_listings(tiny, 0)) - 1
    title = tiny.core("SELECT title FROM core.listings WHERE etsy_listing_id = :l", l=listing.listing_id)
    assert title == [(listing.title,)]
    assert tiny.sync(0).unchanged["listings"] == len(_listings(tiny, 0))  # reloaded once, then left behind again


def test_a_shop_whose_every_listing_was_deleted_has_none_left(tiny: Installation) -> None:
    tiny.sync_all()
    assert tiny.sync(0).status == "succeeded"  # past the other shop's load: the next run has nothing to shape
    with tiny.state.lock:
        for listing in _listings(tiny, 0):
            del tiny.state.world.listings[listing.listing_id]
        tiny.state.changed()
    result = tiny.sync(0)
    assert result.status == "succeeded"
    live = tiny.core(
        "SELECT count(*) FROM core.listings WHERE shop_id = :s AND state <> 'removed'", s=tiny.shops[0].shop_id
    )
    assert live == [(0,)]
