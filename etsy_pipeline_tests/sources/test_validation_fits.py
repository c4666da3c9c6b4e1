"""`validation.fits`, the quick answer for records that plainly fit, never lets through what `problems` names."""

from __future__ import annotations

import copy
from enum import IntEnum
from typing import Any

import pytest

from etsy_pipeline.sources.etsy import validation
from etsy_pipeline_tests.sources.test_arrow_receipts import receipt


class Count(IntEnum):
    TWO = 2


def listing() -> dict[str, Any]:
    price = {"amount": 1250, "divisor": 100, "currency_code": "USD"}
    offering = {"offering_id": 1, "quantity": 2, "is_enabled": True, "price": price}
    return {
        "listing_id": 1, "shop_id": 7, "title": "Towel", "description": "", "state": "active",
        "created_timestamp": 1, "updated_timestamp": 2, "quantity": 3, "price": price, "tags": [], "materials": [],
        "views": 0, "num_favorers": 0, "has_variations": False, "taxonomy_id": None, "shop_section_id": None,
        "url": "u", "images": [{"listing_image_id": 5, "rank": 1, "url_fullxfull": "i"}],
        "inventory": {"products": [{"product_id": 9, "sku": "", "offerings": [offering], "property_values": []}]},
    }  # fmt: skip


def edit(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


RECEIPT_EDITS: list[tuple[tuple[Any, ...], Any]] = [
    (("receipt_id",), True),  # a bool is no int
    (("receipt_id",), KeyError),
    (("status",), None),
    (("grandtotal", "divisor"), 3),
    (("grandtotal", "currency_code"), "US"),
    (("grandtotal",), "25.00"),
    (("transactions", 1, "price", "amount"), "1250"),
    (("transactions", 0, "quantity"), 2.0),
    (("shipments", 0, "carrier_name"), KeyError),
    (("transactions",), None),
    (("transactions", 0), "not an object"),
]
LISTING_EDITS: list[tuple[tuple[Any, ...], Any]] = [
    (("inventory", "products"), None),
    (("inventory", "products", 0, "offerings", 0, "price", "divisor"), 0),
    (("inventory", "products", 0, "offerings"), {}),
    (("inventory", "products", 0), 5),
    (("images", 0, "rank"), "1"),
    (("price",), None),
]


@pytest.mark.parametrize(("spec", "make", "path", "value"), [
    *[(validation.RECEIPT, lambda: receipt(1), path, value) for path, value in RECEIPT_EDITS],
    *[(validation.LISTING, listing, path, value) for path, value in LISTING_EDITS],
])  # fmt: skip
def test_a_record_that_does_not_fit_is_never_passed_quickly(
    spec: validation.Spec, make: Any, path: tuple[Any, ...], value: Any
) -> None:
    record = make()
    assert validation.fits(record, spec) and validation.problems(record, spec) == []
    broken = edit(record, path, value)
    assert not validation.fits(broken, spec)
    assert validation.problems(broken, spec)


def test_what_only_isinstance_accepts_still_fits() -> None:
    record = receipt(1) | {"buyer_user_id": Count.TWO}
    assert not validation.fits(record, validation.RECEIPT)  # not plainly: `problems` takes a closer look
    assert validation.problems(record, validation.RECEIPT) == []
