"""The Dagster UI's side of a backfill, in-process: the webserver's GraphQL schema and the daemon's backfill loop.

The UI launches a backfill with the `launchPartitionBackfill` mutation and the daemon turns it into runs; here
both run in the test process against a temporary DAGSTER_HOME, and the code location loads as the webserver loads
it (through its remote representation). By default runs execute synchronously, so no test waits on a clock; given
an instance configuration instead, runs go through its run coordinator (the queue) and launcher.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster_graphql.test.utils import execute_dagster_graphql

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionKeysNotFoundError { message }
    ... on PythonError { message stack }
  }
}"""

STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status runs { runId status tags { key value } } }
  }
}"""


class Cockpit:
    """What an operator does in the UI: launch a backfill of some partitions of some assets, watch it finish."""

    def __init__(self, process: WorkspaceProcessContext) -> None:
        self.process = process
        self.log = logging.getLogger("etsy_pipeline_tests.cockpit")

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        result = execute_dagster_graphql(self.process.create_request_context(), query, variables)
        return dict(result.data)

    def launch_backfill(self, assets: Sequence[Sequence[str]], partitions: Sequence[str]) -> str:
        params = {"assetSelection": [{"path": list(path)} for path in assets], "partitionNames": list(partitions)}
        answer = self.graphql(LAUNCH, params=params)["launchPartitionBackfill"]
        assert answer["__typename"] == "LaunchBackfillSuccess", answer
        return str(answer["backfillId"])

    def backfill(self, backfill_id: str) -> dict[str, Any]:
        return dict(self.graphql(STATUS, id=backfill_id)["partitionBackfillOrError"])

    def tick_backfills(self) -> None:
        """One pass of the daemon's backfill loop: it submits the runs the backfills need next."""
        for error in execute_backfill_iteration(self.process, self.log):
            assert error is None, error

    def tick_run_queue(self) -> None:
        """One pass of the daemon's run queue: it launches the queued runs the concurrency limits allow."""
        for error in QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(self.process):
            assert error is None, error

    def run_daemon_until_done(self, backfill_id: str, *, iterations: int = 20) -> dict[str, Any]:
        """Tick the daemon's backfill loop (runs execute during the tick) until the backfill ends."""
        for _ in range(iterations):
            self.tick_backfills()
            state = self.backfill(backfill_id)
            if state["status"] in TERMINAL:
                return state
        raise AssertionError(f"backfill {backfill_id} still {self.backfill(backfill_id)['status']}")


@contextmanager
def cockpit(instance_config: Mapping[str, Any] | None = None) -> Iterator[Cockpit]:
    """A temporary instance (its own DAGSTER_HOME) with the code location loaded as `etsy_pipeline`."""
    synchronous = instance_config is None
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable, module_name="etsy_pipeline.definitions", working_directory=str(ROOT)
        ),
        location_name="etsy_pipeline",
    )
    with (
        dg.instance_for_test(
            overrides=instance_config,
            synchronous_run_coordinator=synchronous,
            synchronous_run_launcher=synchronous,
        ) as instance,
        WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as process,
    ):
        yield Cockpit(process)
