"""`Flattener` against hand-built expectations of dlt's relational normalizer, without a database."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from dlt.common.normalizers.json.helpers import get_nested_row_hash

from etsy_pipeline.sources.etsy.fastpath import csv_columns, write_csv
from etsy_pipeline.sources.etsy.flatten import Flattener, TableRows, Unsupported


def record() -> dict[str, Any]:
    return {
        "receiptId": 5,  # dlt's snake_case names
        "grandtotal": {"amount": 1200, "divisor": 1, "currency_code": "JPY", "extra": {"deep": True}},
        "note": None,
        "transactions": [
            {"transaction_id": 50, "price": {"amount": 1200, "divisor": 1}, "variations": []},
            {"transaction_id": 51, "price": None, "variations": [{"a": 1}]},
        ],
        "shipments": [],
        "tags": ["x"],
    }


def test_a_record_becomes_the_rows_dlt_would_store() -> None:
    f = Flattener("receipts", 1, "load-1")
    f.add(record())
    root = f.tables["receipts"].rows
    assert len(root) == 1
    row = root[0]
    assert {k: v for k, v in row.items() if k != "_dlt_id"} == {
        "receipt_id": 5,
        "grandtotal__amount": 1200,
        "grandtotal__divisor": 1,
        "grandtotal__currency_code": "JPY",
        "grandtotal__extra": {"deep": True},  # deeper than the table's nesting: kept whole, as JSON
        "note": None,
        "_dlt_load_id": "load-1",
    }
    root_id = row["_dlt_id"]
    lines = f.tables["receipts__transactions"].rows
    assert [(r["transaction_id"], r["_dlt_list_idx"]) for r in lines] == [(50, 0), (51, 1)]
    assert all(r["_dlt_parent_id"] == r["_dlt_root_id"] == root_id for r in lines)
    assert [r["_dlt_id"] for r in lines] == [
        get_nested_row_hash(root_id, "receipts__transactions", n) for n in range(2)
    ]
    assert lines[0]["price"] == {"amount": 1200, "divisor": 1}  # a child's dicts stay whole at nesting 1
    assert lines[1]["variations"] == [{"a": 1}]
    assert "receipts__shipments" not in f.tables or not f.tables["receipts__shipments"].rows
    assert [r["value"] for r in f.tables["receipts__tags"].rows] == ["x"]
    assert f.tables["receipts"].new["grandtotal__extra"] == "json"
    assert "note" not in f.tables["receipts"].types  # only ever null: no type, no column


def test_deeper_nesting_flattens_dicts_inside_children() -> None:
    f = Flattener("payments", 2, "load-1")
    f.add({"payment_id": 1, "payment_adjustments": [{"id": 9, "amount": {"value": 3}, "items": [{"n": 1}]}]})
    child = f.tables["payments__payment_adjustments"].rows[0]
    assert child["amount__value"] == 3
    grandchild = f.tables["payments__payment_adjustments__items"].rows[0]
    assert grandchild["_dlt_parent_id"] == child["_dlt_id"]
    assert grandchild["_dlt_root_id"] == f.tables["payments"].rows[0]["_dlt_id"]


@pytest.mark.parametrize(
    "change",
    [
        {"receiptId": "5"},  # a text value in a bigint column
        {"note": "2026-01-02T03:04:05Z"},  # dlt would type the new column as a timestamp
        {"tags": [["nested"]]},  # a list of lists
        {"_dlt_id": "mine"},  # dlt would keep the record's own id
        {"receiptId": 2**63},  # too big for a bigint
    ],
)
def test_what_dlt_would_store_differently_is_left_to_dlt(change: dict[str, Any]) -> None:
    f = Flattener("receipts", 1, "load-1", known={"receipts": {"receipt_id": "bigint"}})
    with pytest.raises(Unsupported):
        f.add(record() | change)
    assert f.rows() == 0  # nothing of the record was kept
    f.add(record())
    assert f.rows() == 4


def test_an_int_fits_a_double_column_and_csv_cells_read_back(tmp_path: Path) -> None:
    f = Flattener("t", 1, "load-1", known={"t": {"x": "double"}})
    f.add({"x": 3, "s": 'a "quoted", text\nline', "b": False, "j": None, "o": {"k": [1]}})
    f.add({"x": 3.5, "s": "", "b": True, "j": None, "o": {"k": [2]}})
    table: TableRows = f.tables["t"]
    columns = csv_columns(table)
    assert columns[:4] == ["x", "s", "b", "o__k"] and "j" not in columns  # an always-null column has no type, no column
    write_csv(table, str(tmp_path / "t.csv"))
    with open(tmp_path / "t.csv", newline="") as file:
        read = list(csv.reader(file))
    assert read[0] == columns
    # "o" is flattened at nesting 1; its list, one level down, stays whole as JSON
    assert [r[:4] for r in read[1:]] == [["3", 'a "quoted", text\nline', "false", '[1]'],
                                         ["3.5", "", "true", '[2]']]  # fmt: skip


@pytest.mark.parametrize(
    "grandtotal",
    [
        {"amount": "1200", "divisor": 1, "currency_code": "JPY", "extra": {"deep": True}},  # same keys, a text amount
        {"amount": 2**63, "divisor": 1, "currency_code": "JPY", "extra": {"deep": True}},  # same types, too big
    ],
)
def test_a_nested_dict_that_no_longer_fits_its_columns_is_left_to_dlt_after_records_that_did(
    grandtotal: dict[str, Any],
) -> None:
    f = Flattener("receipts", 1, "load-1")
    for _ in range(2):  # the first types the money object's new JSON column, the second makes its plan
        f.add(record())
    before = f.rows()
    with pytest.raises(Unsupported):
        f.add(record() | {"grandtotal": grandtotal})
    assert f.rows() == before  # nothing of the record was kept
    f.add(record() | {"grandtotal": {"amount": 7, "divisor": 100, "currency_code": "USD", "extra": None}})
    assert f.tables["receipts"].rows[-1]["grandtotal__amount"] == 7


def test_an_int_past_two_to_the_53_in_a_double_column_is_written_as_its_nearest_double(tmp_path: Path) -> None:
    f = Flattener("t", 1, "load-1", known={"t": {"x": "double"}})
    f.add({"x": 2**53 + 1})
    f.add({"x": 0.5})
    write_csv(f.tables["t"], str(tmp_path / "t.csv"))  # Arrow will not round such an int by itself
    with open(tmp_path / "t.csv", newline="") as file:
        read = list(csv.reader(file))
    assert [float(r[0]) for r in read[1:]] == [float(2**53 + 1), 0.5]  # what PostgreSQL reads from the int's digits
