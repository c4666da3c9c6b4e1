"""dlt sources (no Dagster imports)."""
