"""One partition per connected shop (its Etsy shop id), so one shop's failure or backfill never blocks another.

Two runs of one shop must never pull at the same time (they would share cursors and load packages). Dagster
stamps `dagster/partition` with the partition key on every single-partition run, whichever way it starts:
schedule, sensor, the launchpad, an asset backfill from the graph, a retry or a re-execution. The instance
(`dagster.yaml`) limits that tag to one run per value, so a second run of a shop waits in the queue. The
pipeline's own per-shop lock in PostgreSQL still guards runs started outside Dagster (the CLI).
"""

import dagster as dg

shop_partitions = dg.DynamicPartitionsDefinition(name="etsy_shops")

# The run tag the instance's `tag_concurrency_limits` keys on (one run per unique value).
PARTITION_TAG = "dagster/partition"


def shop_run_tags(etsy_shop_id: str) -> dict[str, str]:
    """The tags a run of one shop carries; set explicitly on our own run requests so the intent is visible."""
    return {PARTITION_TAG: etsy_shop_id}
