"""Operations as plain Python (no Dagster): analyst roles and grants, backups and restores, database health.

`defs/ops` wires them into Dagster; the `etsy-pipeline db`, `backup`, `restore` and `health` commands call them.
"""
