"""Small pieces the entity shaping modules share: run a statement and count its rows, and Etsy's Money in SQL.

Kept apart from `transform/core/__init__.py` because that module imports the entity modules for its STEPS.
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


def money_json(column: str) -> str:
    """A Money object kept as JSON (nested in a list dlt did not flatten) converted exactly."""
    return f"core.money(({column}->>'amount')::bigint, ({column}->>'divisor')::bigint)"


def changed(table: str, alias: str, key: str) -> str:
    """CTE `changed`: the `_dlt_id` and Etsy id of the parent rows in the shop's new loads (their children follow)."""
    return f"""
    changed AS (
        SELECT {alias}._dlt_id, {alias}.{key} FROM {table} {alias} WHERE {IN_LOADS.format(a=alias)}
    )"""
