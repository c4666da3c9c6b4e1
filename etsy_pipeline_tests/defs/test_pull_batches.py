"""The 6-hourly pull in batches of shops: fewer run processes, every shop in exactly one run, failures per shop.

Expected values come from the emulator's own objects and from the Dagster instance's event log; the code under
test only supplies the shops to pull.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline.defs.ingest.checks import CHECKS
from etsy_pipeline.defs.ingest.jobs import build_pull_schedule
from etsy_pipeline.defs.ingest.partitions import batch_run_tags, shop_partitions
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.sync.conftest import Installation, actual, expected

ORDERS = dg.AssetKey(["core", "orders"])
RAW_RECEIPTS = dg.AssetKey(["etsy_raw", "receipts"])


@pytest.fixture
def shops_per_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """SYNC_SHOPS_PER_RUN as the schedule reads it (the process-wide settings, read again after each change)."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _tick(instance: dg.DagsterInstance, per_run: int, monkeypatch: pytest.MonkeyPatch) -> list[dg.RunRequest]:
    monkeypatch.setenv("SYNC_SHOPS_PER_RUN", str(per_run))
    get_settings.cache_clear()
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 6, tzinfo=UTC)
    )
    requests = build_pull_schedule(Automation())(context)
    assert isinstance(requests, list)
    return requests


def _shops_of(request: dg.RunRequest, instance: dg.DagsterInstance) -> list[str]:
    """The partitions a run will pull: its one partition, or its range resolved as Dagster resolves it."""
    if request.partition_key is not None:
        return [request.partition_key]
    span = request.partition_key_range
    assert span is not None
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        return list(shop_partitions.get_partition_keys_in_range(span))


@pytest.mark.parametrize("per_run", [3, 1, 25])
def test_a_tick_pulls_every_shop_in_exactly_one_run_of_at_most_n(
    instance: dg.DagsterInstance, shops_per_run: pytest.MonkeyPatch, per_run: int
) -> None:
    shops = [str(30_000_000 + n) for n in (7, 3, 11, 1, 5, 9, 2)]  # stored order, not numeric order
    instance.add_dynamic_partitions("etsy_shops", shops)
    requests = _tick(instance, per_run, shops_per_run)
    assert len(requests) == math.ceil(len(shops) / per_run)
    pulled = [shop for request in requests for shop in _shops_of(request, instance)]
    assert sorted(pulled) == sorted(shops)  # every shop, none twice
    assert all(len(_shops_of(request, instance)) <= per_run for request in requests)
    assert len({r.run_key for r in requests}) == len(requests)
    for request in requests:
        if request.partition_key is not None:  # a batch of one is an ordinary run, held to one run per shop
            assert request.tags["dagster/partition"] == request.partition_key
        else:  # a failed batch is not retried whole: that would pull its good shops again
            assert "dagster/partition" not in request.tags
            assert request.tags["dagster/retry_on_asset_or_op_failure"] == "false"


def _failed_partitions(instance: dg.DagsterInstance, key: dg.AssetKey) -> set[str]:
    """Partitions whose latest attempt did not materialize, as the UI's failed status derives them."""
    attempts = instance.event_log_storage.get_latest_asset_partition_materialization_attempts_without_materializations(
        key
    )
    return set(attempts)


def _materializations(
    instance: dg.DagsterInstance, key: dg.AssetKey, run_id: str
) -> dict[str, dg.AssetMaterialization]:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1000).records
    found = {}
    for record in records:
        materialization = record.asset_materialization
        if record.run_id == run_id and materialization is not None and materialization.partition is not None:
            found[materialization.partition] = materialization
    return found


def test_a_batch_pulls_and_records_every_shop_but_the_failing_one(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    first, second = (str(s.etsy_shop_id) for s in configured.shops)
    ghost = "39999999"  # a partition whose shop is no longer connected, in the middle of the batch
    batch = [first, ghost, second]
    instance.add_dynamic_partitions("etsy_shops", batch)
    run = dg.materialize(
        [etsy_pull, *CHECKS], instance=instance, resources={"storage": StorageResource()},
        tags=batch_run_tags(batch), raise_on_error=False,
    )  # fmt: skip
    assert not run.success
    failure = next(e for e in run.all_events if e.is_step_failure)
    message = str(failure.step_failure_data.error)
    assert f"shop {ghost}" in message and "not connected" in message
    assert f"shop {first}" not in message and f"shop {second}" not in message
    for shop in configured.shops:  # the shops around the failing one were pulled in full
        assert actual(configured, shop.shop_id) == expected(configured.state, shop.etsy_shop_id)
    recorded = _materializations(instance, ORDERS, run.run_id)
    assert set(recorded) == {first, second}
    for shop in configured.shops:  # each partition carries its own shop's figures
        metadata = recorded[str(shop.etsy_shop_id)].metadata
        orders = len([r for r in configured.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id])
        assert metadata["rows_written"].value == orders
        assert metadata["dagster/row_count"].value == orders
    assert set(_materializations(instance, RAW_RECEIPTS, run.run_id)) == {first, second}
    assert _failed_partitions(instance, ORDERS) == {ghost}
    assert set(instance.get_materialized_partitions(ORDERS)) == {first, second}

    # Next: the first shop's seller revokes the app. The batch still pulls the second shop; the first one fails.
    configured.admin("revoke", user_id=configured.shops[0].etsy_user_id)
    configured.admin("advance", hours=2)
    again = dg.materialize(
        [etsy_pull], instance=instance, resources={"storage": StorageResource()},
        tags=batch_run_tags([first, ghost, second]), raise_on_error=False,
    )  # fmt: skip
    assert not again.success
    message = str(next(e for e in again.all_events if e.is_step_failure).step_failure_data.error)
    assert f"shop {first}: needs_reauth" in message and f"shop {ghost}" in message
    assert set(_materializations(instance, ORDERS, again.run_id)) == {second}
    assert _failed_partitions(instance, ORDERS) == {first, ghost}


def test_a_batch_where_every_shop_succeeds_runs_the_checks_on_its_shops(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    batch = [str(s.etsy_shop_id) for s in configured.shops]
    instance.add_dynamic_partitions("etsy_shops", batch)
    run = dg.materialize(
        [etsy_pull, *CHECKS], instance=instance, resources={"storage": StorageResource()}, tags=batch_run_tags(batch)
    )
    assert run.success
    recorded = _materializations(instance, ORDERS, run.run_id)
    assert set(recorded) == set(batch)
    for shop in configured.shops:
        orders = len([r for r in configured.state.world.receipts.values() if r.shop_id == shop.etsy_shop_id])
        assert recorded[str(shop.etsy_shop_id)].metadata["rows_written"].value == orders
    checks = {c.check_name: c for c in run.get_asset_check_evaluations()}
    assert len(checks) == len(CHECKS) and all(c.passed for c in checks.values())
    assert checks["line_items_add_up"].metadata["shop"].value == ",".join(batch)
