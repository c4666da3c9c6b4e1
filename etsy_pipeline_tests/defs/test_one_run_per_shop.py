"""One pull per shop at a time: the instance's run queue, configured by dagster.yaml, holds a second run of a shop.

Runs are launched as the UI launches them (a backfill of one shop partition) and dequeued by the daemon's own
run-queue logic; the launcher records launches without executing, so the test sees the queue and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline_tests.defs.cockpit import cockpit

ROOT = Path(__file__).resolve().parents[2]


def _queue_config() -> dict[str, Any]:
    """The deployment's run coordinator and concurrency settings, with a launcher that only records launches."""
    deployed = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    return {
        "run_coordinator": deployed["run_coordinator"],
        "concurrency": deployed["concurrency"],
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
    }


def test_a_second_run_of_a_shop_waits_until_the_first_ends() -> None:
    pull = [key.path for key in etsy_pull.keys]
    with cockpit(_queue_config()) as ui:
        instance = ui.process.instance
        instance.add_dynamic_partitions("etsy_shops", ["30000001", "30000002"])
        for shop in ("30000001", "30000001", "30000002"):  # an operator launches shop 1 twice
            ui.launch_backfill(pull, [shop])
            ui.tick_backfills()
        assert [r.status for r in instance.get_runs()] == [DagsterRunStatus.QUEUED] * 3

        ui.tick_run_queue()
        assert _states(instance) == [("30000001", "QUEUED"), ("30000001", "STARTING"), ("30000002", "STARTING")]

        first = next(r for r in instance.get_runs() if r.status == DagsterRunStatus.STARTING and _shop(r) == "30000001")
        instance.report_run_failed(first)  # the first run of shop 1 ends: the second may start
        ui.tick_run_queue()
        assert _states(instance) == [("30000001", "FAILURE"), ("30000001", "STARTING"), ("30000002", "STARTING")]


def _shop(run: DagsterRun) -> str:
    return run.tags["dagster/partition"]


def _states(instance: DagsterInstance) -> list[tuple[str, str]]:
    return sorted((_shop(r), r.status.value) for r in instance.get_runs())
