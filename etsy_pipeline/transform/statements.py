"""Small pieces the entity shaping modules share: run a statement and count its rows, and Etsy's Money in SQL.

Kept apart from `transform/core.py` because that module imports the entity modules for its STEPS.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.transform.raw import RawSchema

# Rows of the shop's loads newer than its watermark; every shaping step reads only these.
IN_LOADS = "{a}.shop_id = :etsy_shop_id AND {a}._dlt_load_id > :since AND {a}._dlt_load_id <= :upto"


def run(conn: Connection, sql: str, params: dict[str, Any]) -> int:
    return max(conn.execute(text(sql), params).rowcount, 0)


def money(raw: RawSchema, table: str, prefix: str, alias: str) -> str:
    """A flattened Money column converted exactly, or NULL when dlt has not created it (never seen non-null)."""
    amount = raw.col(table, f"{prefix}__amount", alias, "bigint")
    divisor = raw.col(table, f"{prefix}__divisor", alias, "bigint")
    return f"core.money({amount}, {divisor})"
