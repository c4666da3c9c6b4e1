"""One partition per connected shop (its Etsy shop id), so one shop's failure or backfill never blocks another.

Two runs of one shop must never pull at the same time (they would share cursors and load packages). Dagster
stamps `dagster/partition` with the partition key on every single-partition run, whichever way it starts:
schedule, sensor, the launchpad, an asset backfill from the graph, a retry or a re-execution. The instance
(`dagster.yaml`) limits that tag to one run per value, so a second run of a shop waits in the queue.

The schedule pulls shops in batches (`SYNC_SHOPS_PER_RUN`): a batch is a run over a range of partitions in
their stored order, so the batches of one tick never share a shop. A batch carries range tags instead of
`dagster/partition`, so the pipeline's own per-shop lock in PostgreSQL is what keeps a batch and a manual run of
one of its shops apart (the later one ends `skipped`); it also guards runs started outside Dagster (the CLI).
"""

from collections.abc import Sequence

import dagster as dg

shop_partitions = dg.DynamicPartitionsDefinition(name="etsy_shops")

# The run tag the instance's `tag_concurrency_limits` keys on (one run per unique value).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# A failed batch is not retried as a whole: that would pull every good shop of it again. Its failing shops are
# pulled by the next tick; a run whose process died is still retried (that is no asset failure).
RETRY_ON_FAILURE_TAG = "dagster/retry_on_asset_or_op_failure"


def shop_run_tags(etsy_shop_id: str) -> dict[str, str]:
    """The tags a run of one shop carries; set explicitly on our own run requests so the intent is visible."""
    return {PARTITION_TAG: etsy_shop_id}


def batches(keys: Sequence[str], size: int) -> list[list[str]]:
    """The shops in runs of at most `size`, in the partitions' stored order, each shop in exactly one run."""
    return [list(keys[start : start + size]) for start in range(0, len(keys), max(1, size))]


def batch_run_tags(batch: Sequence[str]) -> dict[str, str]:
    """The tags of a run over several shops: the range of partitions it pulls (Dagster resolves it in stored order)."""
    return {RANGE_START_TAG: batch[0], RANGE_END_TAG: batch[-1], RETRY_ON_FAILURE_TAG: "false"}
