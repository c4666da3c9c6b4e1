"""Ingest slice: Etsy → etsy_raw (dlt) → core, one dynamic partition per connected shop."""
