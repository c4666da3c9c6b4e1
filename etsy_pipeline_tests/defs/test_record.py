"""Work the CLI does shows in the Dagster instance: the same partitions the assets would have materialized."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from etsy_pipeline import cli
from etsy_pipeline.dev import dev_home
from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.sync.conftest import Installation


def test_sync_and_backfill_from_the_command_line_are_recorded_in_the_instance(
    configured: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert cli.main(["sync"]) == 0
    shops = {str(s.etsy_shop_id) for s in configured.shops}
    with dg.DagsterInstance.get() as instance:
        orders = dg.AssetKey(["core", "orders"])
        assert instance.get_materialized_partitions(orders) == shops
        assert set(instance.get_dynamic_partitions("etsy_shops")) == shops
        event = instance.get_latest_materialization_event(orders)
        assert event is not None and event.asset_materialization is not None
        shop = event.asset_materialization.partition
        expected = sum(1 for r in configured.state.world.receipts.values() if str(r.shop_id) == shop)
        assert event.asset_materialization.metadata["dagster/row_count"].value == expected
        assert instance.get_materialized_partitions(dg.AssetKey(["etsy_raw", "receipts"])) == shops
    newest = max(r.created for r in configured.state.world.receipts.values())
    last = datetime.fromtimestamp(newest, tz=UTC).date()
    first = last - timedelta(days=2)
    assert cli.main(["backfill", "--from", first.isoformat(), "--to", last.isoformat()]) == 0
    with dg.DagsterInstance.get() as instance:
        days = {(first + timedelta(days=n)).isoformat() for n in range(3)}
        assert instance.get_materialized_partitions(dg.AssetKey(["analytics", "shop_daily_metrics"])) == days


def test_dev_keeps_its_instance_under_the_data_dir(
    configured: Installation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = get_settings()
    home = dev_home(settings)
    assert home == settings.data_dir.resolve() / "dagster"
    (home / "dagster.yaml").write_text((home / "dagster.yaml").read_text())  # kept as written on first use
    with dg.DagsterInstance.from_config(str(home)) as instance:  # Dagster's own validation of the config
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    assert cli.main(["sync", "--shop", str(configured.shops[0].etsy_shop_id)]) == 0
    with dg.DagsterInstance.from_config(str(home)) as instance:  # the CLI found the dev instance on its own
        recorded = instance.get_materialized_partitions(dg.AssetKey(["core", "orders"]))
    assert recorded == {str(configured.shops[0].etsy_shop_id)}
