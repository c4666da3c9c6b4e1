from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline.defs.ingest.checks import CHECKS
from etsy_pipeline.defs.ingest.jobs import build_pull_schedule, build_shops_sensor
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline_tests.sync.conftest import Installation


def test_the_graph_keeps_its_names() -> None:
    from etsy_pipeline.definitions import defs

    repository = defs.get_repository_def()
    keys = {k.to_user_string() for k in repository.asset_graph.get_all_asset_keys()}
    assert {
        f"etsy_raw/{e}"
        for e in ("shops", "shop_sections", "listings", "receipts", "payments", "reviews", "ledger_entries")
    } <= keys
    assert {f"core/{t}" for t in ("shops", "listings", "inventory", "orders", "order_items", "customers")} <= keys
    assert {j.name for j in repository.get_all_jobs()} >= {"pull_sync", "migrate_database"}
    schedule = repository.get_schedule_def("pull_sync_every_6_hours")
    assert schedule.cron_schedule == "0 */6 * * *"
    assert repository.has_sensor_def("etsy_shops_sensor")
    spec = next(s for s in etsy_pull.specs if s.key == dg.AssetKey(["etsy_raw", "receipts"]))
    assert spec.kinds == {"dlt", "postgres"}
    assert etsy_pull.op.pool == "etsy_api"
    blocking = {spec.name for check in CHECKS for spec in check.check_specs if spec.blocking}
    assert blocking == {"orders_keys_unique", "order_items_keys_unique", "line_items_add_up", "no_orphan_line_items"}


def test_the_sensor_and_schedule_follow_connected_shops(configured: Installation, instance: dg.DagsterInstance) -> None:
    etsy_shops_sensor, pull_sync_schedule = build_shops_sensor(Automation()), build_pull_schedule(Automation())
    context = dg.build_sensor_context(instance=instance, resources={"storage": StorageResource()})
    result = etsy_shops_sensor(context)
    assert isinstance(result, dg.SensorResult)
    assert result.dynamic_partitions_requests
    added = result.dynamic_partitions_requests[0]
    assert isinstance(added, dg.AddDynamicPartitionsRequest)
    assert sorted(added.partition_keys) == sorted(str(s.etsy_shop_id) for s in configured.shops)
    instance.add_dynamic_partitions("etsy_shops", list(added.partition_keys))
    schedule_context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 6, tzinfo=UTC)
    )
    requests = pull_sync_schedule(schedule_context)
    assert isinstance(requests, list)
    # both shops fit one run (SYNC_SHOPS_PER_RUN): a range over the partitions in their stored order
    assert len(requests) == 1 and requests[0].partition_key is None
    assert requests[0].partition_key_range == dg.PartitionKeyRange(added.partition_keys[0], added.partition_keys[-1])
    again = etsy_shops_sensor(dg.build_sensor_context(instance=instance, resources={"storage": StorageResource()}))
    assert isinstance(again, dg.SensorResult) and not again.dynamic_partitions_requests


def test_a_shop_partition_materializes_with_metadata_and_checks(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    key = str(configured.shops[0].etsy_shop_id)
    instance.add_dynamic_partitions("etsy_shops", [key])
    result = dg.materialize(
        [etsy_pull, *CHECKS], partition_key=key, instance=instance, resources={"storage": StorageResource()}
    )
    assert result.success
    materializations = {
        m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("etsy_pull")
    }
    assert materializations["etsy_raw/receipts"]["rows_fetched"].value == 300
    assert materializations["core/orders"]["rows_written"].value == 300
    items = sum(len(r.transactions) for r in configured.state.world.receipts.values() if r.shop_id == int(key))
    assert materializations["core/order_items"]["dagster/row_count"].value == items  # the shop's rows afterwards
    orders = next(s for s in etsy_pull.specs if s.key == dg.AssetKey(["core", "orders"]))
    assert orders.metadata["dagster/table_name"] == "core.orders"
    assert orders.owners and orders.freshness_policy is not None
    api_calls = materializations["etsy_raw/receipts"]["api_calls"].value
    assert isinstance(api_calls, int) and api_calls > 0
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {name: True for name in checks} and len(checks) == len(CHECKS)
    with configured.runtime.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE core.orders SET subtotal = subtotal + 1 WHERE id = (SELECT min(id) FROM core.orders)")
        )
    broken = dg.materialize(  # a no-change sync leaves the broken row alone; the checks see it
        [etsy_pull, *CHECKS], partition_key=key, instance=instance, resources={"storage": StorageResource()},
        raise_on_error=False,
    )  # fmt: skip
    assert not broken.success  # a blocking check failed: nothing downstream may build on these rows
    verdicts = {c.check_name: c.passed for c in broken.get_asset_check_evaluations()}
    assert verdicts["line_items_add_up"] is False
    assert verdicts["orders_keys_unique"] is True
    other = str(configured.shops[1].etsy_shop_id)  # the broken order is the first shop's
    instance.add_dynamic_partitions("etsy_shops", [other])
    elsewhere = dg.materialize(
        [etsy_pull, *CHECKS], partition_key=other, instance=instance, resources={"storage": StorageResource()}
    )
    scoped = {c.check_name: c for c in elsewhere.get_asset_check_evaluations()}
    assert scoped["line_items_add_up"].passed  # a check looks at the shop its run built
    assert scoped["line_items_add_up"].metadata["shop"].value == other


def test_a_failing_shop_fails_only_its_own_run(configured: Installation, instance: dg.DagsterInstance) -> None:
    first, second = (str(s.etsy_shop_id) for s in configured.shops)
    instance.add_dynamic_partitions("etsy_shops", [first, second])
    configured.admin("revoke", user_id=configured.shops[0].etsy_user_id)
    configured.admin("advance", hours=2)
    failed = dg.materialize(
        [etsy_pull],
        partition_key=first,
        instance=instance,
        resources={"storage": StorageResource()},
        raise_on_error=False,
    )
    assert not failed.success
    ok = dg.materialize([etsy_pull], partition_key=second, instance=instance, resources={"storage": StorageResource()})
    assert ok.success
