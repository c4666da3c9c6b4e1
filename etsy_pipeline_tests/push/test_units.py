"""Pure pieces of the push: the full-replace inventory body, backoff bounds, stocktake parsing."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from etsy_pipeline.etsy.writes import inventory_body, variation_key
from etsy_pipeline.push.backoff import Backoff
from etsy_pipeline.push.stocktake import read_stocktake
from etsy_pipeline.storage.repositories.base import InvalidArgumentError

GET_ANSWER: dict[str, Any] = {
    "products": [
        {
            "product_id": 11,
            "sku": "MUG-RED",
            "is_deleted": False,
            "property_values": [
                {"property_id": 513, "property_name": "Color", "scale_id": None, "scale_name": None,
                 "value_ids": [7], "values": ["Red"]},
            ],
            "offerings": [
                {"offering_id": 21, "quantity": 4, "is_enabled": True, "is_deleted": False,
                 "price": {"amount": 1250, "divisor": 100, "currency_code": "USD"}, "readiness_state_id": 9},
            ],
        },
        {
            "product_id": 12,
            "sku": "MUG-OLD",
            "is_deleted": True,
            "property_values": [],
            "offerings": [],
        },
    ],
    "price_on_property": [513],
    "quantity_on_property": [],
    "sku_on_property": [513],
    "readiness_state_on_property": [],
}  # fmt: skip


def test_inventory_body_sends_every_live_product_back_in_etsys_write_shape() -> None:
    assert inventory_body(GET_ANSWER) == {
        "products": [
            {
                "sku": "MUG-RED",
                "property_values": [
                    {
                        "property_id": 513,
                        "property_name": "Color",
                        "scale_id": None,
                        "value_ids": [7],
                        "values": ["Red"],
                    }
                ],
                "offerings": [{"price": 12.5, "quantity": 4, "is_enabled": True, "readiness_state_id": 9}],
            }
        ],
        "price_on_property": [513],
        "quantity_on_property": [],
        "sku_on_property": [513],
        "readiness_state_on_property": [],
    }


def test_a_money_divisor_is_never_assumed_to_be_100() -> None:
    answer = copy.deepcopy(GET_ANSWER)
    answer["products"][0]["offerings"][0]["price"] = {"amount": 1250, "divisor": 1, "currency_code": "JPY"}
    assert inventory_body(answer)["products"][0]["offerings"][0]["price"] == 1250.0


def test_variation_key_sorts_properties() -> None:
    product = {"property_values": [{"property_id": 514, "value_ids": [3]}, {"property_id": 200, "value_ids": [8]}]}
    assert variation_key(product) == "200:8|514:3"
    assert variation_key({"property_values": []}) == ""


@pytest.mark.parametrize("attempts", [1, 2, 5, 12])
def test_backoff_is_full_jitter_under_a_cap(attempts: int) -> None:
    backoff = Backoff(base_seconds=10, cap_seconds=60, max_attempts=8)
    rng = random.Random(attempts)
    bound = min(60, 10 * 2 ** (attempts - 1))
    delays = [backoff.delay(attempts, rng) for _ in range(200)]
    assert all(0 <= d <= bound for d in delays)
    assert max(delays) > bound / 2  # spread over the whole range, not a fixed step
    assert backoff.exhausted(attempts) == (attempts >= 8)


def test_stocktake_reports_every_bad_line(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("listing_id,sku,quantity\n1,A,3\nx,B,1\n2,,5\n3,C,1000\n4,D\n")
    edits, problems = read_stocktake(csv)
    assert [(e.etsy_listing_id, e.sku, e.variation_key, e.quantity, e.line) for e in edits] == [
        (1, "A", None, 3, 2),
        (2, None, "", 5, 4),
    ]
    assert problems == [
        "line 3: listing_id 'x' is not an Etsy listing id",
        "line 5: quantity '1000' is not an integer from 0 to 999",
        "line 6: expected 3 fields (listing_id,sku,quantity), got 2",
    ]


def test_stocktake_needs_its_header(tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("sku,quantity\nA,1\n")
    with pytest.raises(InvalidArgumentError, match="line 1: the header must be listing_id,sku,quantity"):
        read_stocktake(csv)
