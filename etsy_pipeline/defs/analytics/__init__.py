"""Analytics slice: daily-partitioned assets over core, their checks, backfills and automation."""
