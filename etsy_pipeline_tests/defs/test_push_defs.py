"""The push slice in Dagster: names, pool and default status; one RunRequest per due batch; the batched
sensor's thresholds; a run that pushes, records its counts and checks the outbox."""

from __future__ import annotations

from typing import Any

import dagster as dg
import httpx
import pytest
from sqlalchemy import text

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.push.assets import etsy_push, push_outbox_needs_nobody
from etsy_pipeline.defs.push.sensors import build_sensors
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.sync.conftest import Installation


def _sensors() -> dict[str, Any]:
    return {s.name: s for s in build_sensors("push_changes", running=True)}


def _tick(name: str, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_sensor_context(instance=instance, resources={"storage": StorageResource()})
    result = _sensors()[name](context)
    assert isinstance(result, dg.SensorResult)
    return list(result.run_requests or [])


def _stock(inst: Installation, shop: int, quantity: int) -> tuple[int, str]:
    etsy_shop = inst.shops[shop].etsy_shop_id
    listing = min(
        (x for x in inst.state.world.listings.values() if x.shop_id == etsy_shop and x.state == "active"),
        key=lambda x: x.listing_id,
    )
    sku = listing.inventory.products[0].sku
    edit = OfferingEdit(listing.listing_id, sku=sku, quantity=quantity)
    inst.runtime.repos.inventory.edit_offerings(inst.shops[shop].user_id, [edit])
    return listing.listing_id, sku


def _title(inst: Installation, shop: int, n: int) -> None:
    etsy_shop = inst.shops[shop].etsy_shop_id
    listings = sorted(
        (x for x in inst.state.world.listings.values() if x.shop_id == etsy_shop), key=lambda x: x.listing_id
    )
    inst.runtime.repos.listings.edit(inst.shops[shop].user_id, listings[n].listing_id, {"title": f"Batch {n}"})


def test_the_push_slice_keeps_its_names() -> None:
    from etsy_pipeline.definitions import defs

    repository = defs.get_repository_def()
    assert "push_changes" in {j.name for j in repository.get_all_jobs()}
    for name in ("critical_push_sensor", "batched_push_sensor"):
        sensor = repository.get_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.job_name == "push_changes"
    assert repository.get_sensor_def("critical_push_sensor").minimum_interval_seconds == 30
    assert etsy_push.op.pool == "etsy_api"
    stopped = build_sensors("push_changes", running=False)
    assert {s.default_status for s in stopped} == {dg.DefaultSensorStatus.STOPPED}
    one_stopped = {
        s.name: s.default_status for s in build_sensors("push_changes", True, Automation.parse("batched_push_sensor"))
    }
    assert one_stopped == {
        "critical_push_sensor": dg.DefaultSensorStatus.RUNNING,
        "batched_push_sensor": dg.DefaultSensorStatus.STOPPED,
    }


def test_critical_sensor_asks_one_run_per_shop_keyed_by_the_highest_change(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    configured.sync_all()
    assert _tick("critical_push_sensor", instance) == []
    _stock(configured, 0, 3)
    _stock(configured, 0, 4)
    _stock(configured, 1, 5)
    _title(configured, 0, 9)  # a listing edit is not critical

    requests = _tick("critical_push_sensor", instance)

    with configured.runtime.db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.etsy_shop_id, max(c.id) FROM core.pending_changes c JOIN core.shops s ON s.id = c.shop_id "
            "WHERE c.entity_type = 'inventory' GROUP BY s.etsy_shop_id"
        ))  # fmt: skip
        highest = {r[0]: r[1] for r in rows}
    keys = sorted((r.run_key or "").rsplit(":", 1)[0] for r in requests)
    assert keys == sorted(f"critical:{s}:{m}" for s, m in highest.items())
    assert {r.tags["push"] for r in requests} == {"critical"}
    again = _tick("critical_push_sensor", instance)  # same changes due: the same run keys
    assert [r.run_key for r in again] == [r.run_key for r in requests]
    with configured.runtime.db.engine.begin() as conn:  # a push scheduled one for a retry, now due again
        conn.execute(
            text(
                "UPDATE core.pending_changes SET attempts = 1, updated_at = now() "
                "WHERE id = (SELECT min(id) FROM core.pending_changes)"
            )
        )
    retried = _tick("critical_push_sensor", instance)
    assert len(retried) == len(requests)
    assert {r.run_key for r in retried} != {r.run_key for r in requests}


def test_batched_sensor_waits_for_the_size_or_the_age(
    configured: Installation, instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured.sync_all()
    _title(configured, 0, 1)
    _title(configured, 0, 2)
    assert _tick("batched_push_sensor", instance) == []  # 2 due, the oldest just made

    monkeypatch.setenv("PUSH_BATCH_SIZE", "2")
    get_settings.cache_clear()
    (by_size,) = _tick("batched_push_sensor", instance)
    assert by_size.tags["push"] == "batched"

    monkeypatch.setenv("PUSH_BATCH_SIZE", "50")
    get_settings.cache_clear()
    with configured.runtime.db.engine.begin() as conn:
        conn.execute(text("UPDATE core.pending_changes SET created_at = now() - interval '16 minutes'"))
    (by_age,) = _tick("batched_push_sensor", instance)
    assert by_age.run_key == by_size.run_key


def test_a_push_run_reaches_etsy_and_records_its_counts(configured: Installation, instance: dg.DagsterInstance) -> None:
    configured.sync_all()
    listing_id, sku = _stock(configured, 0, 11)
    _title(configured, 0, 4)  # batched: a critical run leaves it for the batched push
    shop = configured.shops[0].etsy_shop_id
    config = {"ops": {"etsy_push": {"config": {"etsy_shop_id": shop, "kind": "critical"}}}}

    result = dg.materialize(
        [etsy_push, push_outbox_needs_nobody],
        instance=instance,
        resources={"storage": StorageResource()},
        run_config=config,
    )

    assert result.success
    (materialization,) = result.asset_materializations_for_node("etsy_push")
    assert materialization.metadata["confirmed"].value == 1
    assert materialization.metadata["failed"].value == 0
    with configured.runtime.db.engine.connect() as conn:
        states = {r[0]: r[1] for r in conn.execute(text("SELECT entity_type, status FROM core.pending_changes"))}
    assert states == {"inventory": "confirmed", "listing": "pending"}
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("push_outbox_needs_nobody", True)]
    token = configured.access.tokens_for(configured.shops[0].user_id).access_token()
    keys = httpx.get(f"{configured.emulator.url}/_emulator/credentials").json()
    inventory = httpx.get(
        f"{configured.emulator.url}/v3/application/listings/{listing_id}/inventory",
        headers={"authorization": f"Bearer {token}", "x-api-key": f"{keys['keystring']}:{keys['shared_secret']}"},
    ).json()
    assert {p["sku"]: p["offerings"][0]["quantity"] for p in inventory["products"]}[sku] == 11
