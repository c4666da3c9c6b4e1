"""One partition per connected shop (its Etsy shop id), so one shop's failure or backfill never blocks another."""

import dagster as dg

shop_partitions = dg.DynamicPartitionsDefinition(name="etsy_shops")
