"""The receipts' fast path stores what dlt's own normalizer stores: same tables, columns, types, rows and links.

Each test loads the same pages twice into throwaway schemas of the real PostgreSQL: once as plain dicts through
dlt's normalizer (the path every record took before), once through `FastPath` (CSV files dlt imports), and
compares the results. Row ids are random per load, so rows are compared with their links resolved: a child row
names its receipt and its parent's position instead of `_dlt_parent_id` / `_dlt_root_id`.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import dlt
import pytest
from sqlalchemy import text

from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.context import Pull
from etsy_pipeline.sources.etsy.fastpath import FastPath, route, with_quarantine
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.sources.etsy.receipts import RECEIPT_HINTS, RECEIPT_NESTING
from etsy_pipeline.storage.database import Database
from etsy_pipeline.sync.runner import configure_dlt
from etsy_pipeline.sync.workdir import dlt_credentials

IDS = ("_dlt_id", "_dlt_load_id", "_dlt_parent_id", "_dlt_root_id")


def money(amount: int, divisor: int = 100, currency: str = "USD") -> dict[str, Any]:
    return {"amount": amount, "divisor": divisor, "currency_code": currency}


def transaction(tid: int, currency: str = "USD", divisor: int = 100, **extra: Any) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "title": 'Tea towel, "oak"\nline two — é',
        "quantity": 2,
        "price": money(1250, divisor, currency),
        "shipping_cost": money(0, divisor, currency),
        "listing_id": 1000 + tid,
        "product_id": None,
        "sku": "",
        "created_timestamp": 1_780_000_000,
        "variations": [{"property_id": 200, "formatted_name": "Colour", "formatted_value": "Oak"}],
        "product_data": [],
        "buyer_coupon": 0.0,
        **extra,
    }


def receipt(rid: int, currency: str = "USD", divisor: int = 100, **extra: Any) -> dict[str, Any]:
    record = {
        "receipt_id": rid,
        "buyer_user_id": 600 + rid,
        "status": "completed",
        "is_paid": True,
        "is_shipped": False,
        "created_timestamp": 1_780_000_000 + rid,
        "updated_timestamp": 1_780_000_100 + rid,
        "is_gift": False,
        "country_iso": None,
        "payment_method": "cc",
        "message_from_seller": None,  # null in every record: dlt creates no column for it
        "transactions": [transaction(rid * 10, currency, divisor), transaction(rid * 10 + 1, currency, divisor)],
        "shipments": [{"shipment_notification_timestamp": 1_780_000_500, "carrier_name": "dhl", "tracking_code": None}],
        "refunds": [],
        "shop_id": 7,
        "seller_email": "seller@example.com",
        "receipt_type": 0,
    }
    for name in ("grandtotal", "subtotal", "total_price", "total_shipping_cost", "total_tax_cost", "total_vat_cost",
                 "discount_amt", "gift_wrap_price"):  # fmt: skip
        record[name] = money(2500, divisor, currency)
    return record | extra


def first_page() -> list[Any]:
    return [
        receipt(1, country_iso="DE"),
        receipt(
            2,
            "JPY",
            1,
            transactions=[transaction(20, "JPY", 1)],
            shipments=[],
            refunds=[{"amount": money(500, 1, "JPY"), "created_timestamp": 1_780_000_900, "reason": None}],
        ),
        receipt(3, transactions=[], shipments=[], refunds=[], receipt_type=None),
        receipt(4, status=None),  # quarantined: a required field is null
        "not an object",  # quarantined, with no usable id
        # Shapes the fast path leaves to dlt: a string dlt would type as a timestamp, a list of lists.
        receipt(5, gift_note="2026-01-02T03:04:05+00:00"),
        receipt(6, tags=[["a", "b"], ["c"]]),
        receipt(7, tags=["x", "y"], notes={"inner": {"deep": 1}, "top": "t"}),
    ]


def second_page() -> list[Any]:
    """Receipt 1 read again with one line item less and a new status; 3 gains a refund; 8 is new."""
    again = receipt(1, status="canceled", country_iso="DE")
    again["transactions"] = again["transactions"][:1]
    three = receipt(3, transactions=[], shipments=[])
    three["refunds"] = [{"amount": money(100), "created_timestamp": 1_780_001_000, "reason": "x"}]
    return [again, three, receipt(8, seller_email=12)]  # an int in a text column: left to dlt


def pull() -> Pull:
    return Pull(cast(Any, None), cast(Any, None), 7, RunReport())


def plain_resource(pages: list[list[Any]]) -> Any:
    """The receipts as they were loaded before: dicts, normalized by dlt."""
    p = pull()

    @dlt.resource(name="receipts", **RECEIPT_HINTS)
    def receipts() -> Iterator[Any]:
        for page in pages:
            yield from p.checked("receipts", validation.RECEIPT, "receipt_id", copy.deepcopy(page))

    return receipts


def fast_resource(pages: list[list[Any]], flush_rows: int) -> Any:
    p = pull()

    @dlt.resource(name="receipts", **(RECEIPT_HINTS | {"table_name": route("receipts")}))
    def receipts() -> Iterator[Any]:
        def read() -> Iterator[Any]:
            for page in pages:
                yield from p.checked("receipts", validation.RECEIPT, "receipt_id", copy.deepcopy(page))

        yield from FastPath("receipts", "receipt_id", RECEIPT_NESTING, flush_rows=flush_rows).stream(read())

    return with_quarantine(receipts)


@pytest.fixture
def schemas(db: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    configure_dlt(str(tmp_path))
    names = (f"t_plain_{uuid.uuid4().hex[:8]}", f"t_fast_{uuid.uuid4().hex[:8]}")
    yield names
    with db.engine.begin() as conn:
        for name in names:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))


def load(db: Database, tmp_path: Path, dataset: str, resource: Any) -> None:
    pipeline = dlt.pipeline(
        pipeline_name=dataset,
        destination=dlt.destinations.postgres(dlt_credentials(db.url)),
        dataset_name=dataset,
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    pipeline.run(resource, loader_file_format="csv")


def columns(db: Database, schema: str) -> dict[str, dict[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = :s"),
            {"s": schema},
        ).all()
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        if not table.startswith("_dlt"):
            found.setdefault(table, {})[column] = kind
    return found


def contents(db: Database, schema: str, root: str = "receipts", key: str = "receipt_id") -> dict[str, Any]:
    """Every table's rows with dlt's ids replaced by what they point at: a child row names its root record's key
    and its parent's position (table and list index), so rows of two loads compare although their ids differ."""
    tables = columns(db, schema)
    with db.engine.connect() as conn:
        rows = {
            t: [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{schema}"."{t}"')).all()] for t in tables
        }
    label: dict[str, Any] = {r["_dlt_id"]: (r[key],) for r in rows.get(root, [])}
    for table in sorted(rows, key=len):  # parents before children: their names are prefixes
        for row in rows[table]:
            if "_dlt_parent_id" in row:
                label[row["_dlt_id"]] = (*label.get(row["_dlt_parent_id"], ("orphan",)), table, row["_dlt_list_idx"])
    load_ids = {r["_dlt_load_id"] for r in rows.get(root, [])}
    found: dict[str, Any] = {}
    for table, items in rows.items():
        resolved = []
        for row in items:
            if "_dlt_root_id" in row:
                row["receipt"] = label.get(row["_dlt_root_id"], ("orphan",))[0]
                row["parent"] = label.get(row["_dlt_parent_id"], ("orphan",))
            row.pop("quarantined_at", None)
            resolved.append({k: v for k, v in row.items() if k not in IDS})
        found[table] = sorted(resolved, key=repr)
    found["load ids"] = [{"count": len(load_ids)}]
    return found


@pytest.mark.parametrize("flush_rows", [1, 10_000])
def test_fast_receipts_store_what_dlt_would(
    db: Database, tmp_path: Path, schemas: tuple[str, str], flush_rows: int
) -> None:
    plain, fast = schemas
    for pages in ([first_page()], [second_page()]):
        load(db, tmp_path, plain, plain_resource(pages))
        load(db, tmp_path, fast, fast_resource(pages, flush_rows))
        assert columns(db, fast) == columns(db, plain)
        assert contents(db, fast) == contents(db, plain)
    stored = contents(db, fast)
    # The comparison saw what matters: the re-read receipt's children were replaced, nulls, JPY and the
    # quarantined records are there, and the variant column dlt made for the int country.
    lines = [(r["receipt"], r["transaction_id"]) for r in stored["receipts__transactions"] if r["receipt"] == 1]
    assert lines == [(1, 10)]
    assert {r["receipt_id"]: r["status"] for r in stored["receipts"]}[1] == "canceled"
    jpy = next(r for r in stored["receipts"] if r["receipt_id"] == 2)
    assert (jpy["grandtotal__amount"], jpy["grandtotal__divisor"], jpy["grandtotal__currency_code"]) == (2500, 1, "JPY")
    assert [r["amount"] for r in stored["receipts__refunds"] if r["receipt"] == 2] == [money(500, 1, "JPY")]
    assert sorted(r["receipt"] for r in stored["receipts__refunds"]) == [2, 3]
    assert {r["record_key"] for r in stored["quarantine"]} == {"4", None}
    assert "message_from_seller" not in columns(db, fast)["receipts"]
    assert {r["receipt"] for r in stored["receipts__tags"]} == {6, 7}
    assert "orphan" not in {r["receipt"] for t in stored.values() for r in t if "receipt" in r}
