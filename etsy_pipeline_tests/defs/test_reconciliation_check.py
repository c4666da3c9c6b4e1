"""The Dagster check that shows each shop's pull compared with Etsy's own totals."""

from __future__ import annotations

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.defs.ingest.checks import orders_match_etsy
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline_tests.sync.conftest import Installation


def _evaluate() -> dg.AssetCheckResult:
    result = orders_match_etsy(dg.build_asset_check_context(), StorageResource())
    assert isinstance(result, dg.AssetCheckResult)
    return result


def test_the_check_shows_core_against_etsy_and_fails_on_a_shop_left_incomplete(configured: Installation) -> None:
    configured.sync_all()
    good = _evaluate()
    assert good.passed
    shop = configured.shops[0]
    etsy = sum(1 for r in configured.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id)
    table = good.metadata["core_of_etsy"].value
    assert isinstance(table, dict)
    assert table[str(shop.etsy_shop_id)]["receipts"] == f"{etsy:,} of {etsy:,}"
    with configured.runtime.db.engine.begin() as conn:  # a cursor ahead of the data, as a bad restore would leave
        conn.execute(
            text("UPDATE core.sync_cursors SET value = value + 40 * 86400 WHERE shop_id = :s AND resource LIKE 'rec%'"),
            {"s": shop.shop_id},
        )
    configured.admin("advance", hours=48)
    assert configured.sync(0).status == "incomplete"
    bad = _evaluate()
    assert not bad.passed
    assert bad.metadata["shops_incomplete"].value == [shop.etsy_shop_id]
