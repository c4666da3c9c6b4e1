"""Listings through the fast path store what dlt's normalizer stores, two levels deep (images, inventory
products, their offerings and property values), with the JSON-list hints of the listings resource."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema

from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.shop import JSON_LISTS, SOURCE_NESTING, fast_listings
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.sources.test_arrow_receipts import columns, contents, load, money, pull, schemas

__all__ = ["schemas"]  # the fixture, used by name


def listing(lid: int, images: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "listing_id": lid, "shop_id": 7, "title": f"Towel {lid}", "description": "Linen, \"washed\"", "state": "active",
        "created_timestamp": 1_700_000_000, "updated_timestamp": 1_700_000_100 + lid, "quantity": 3,
        "price": money(1999), "tags": ["linen", "kitchen"], "materials": [], "views": 10, "num_favorers": 0,
        "has_variations": True, "taxonomy_id": None, "shop_section_id": 5, "url": f"https://x/{lid}",
        "images": [
            {"listing_image_id": lid * 10 + n, "rank": n + 1, "url_fullxfull": "https://i/f.jpg",
             "url_570xN": "https://i/570.jpg", "alt_text": None, "full_width": 800}
            for n in range(images)
        ],
        "inventory": {
            "products": [{
                "product_id": lid * 100, "sku": "", "is_deleted": False,
                "offerings": [{"offering_id": lid * 1000, "quantity": 3, "is_enabled": True, "is_deleted": False,
                               "price": money(1999)}],
                "property_values": [{"property_id": 200, "property_name": "Colour", "scale_id": None,
                                     "value_ids": [1], "values": ["Oak"]}],
            }],
            "price_on_property": [200], "quantity_on_property": [], "sku_on_property": [],
        },
        **extra,
    }  # fmt: skip


def pages() -> list[list[Any]]:
    first = [listing(1), listing(2, images=0, inventory=None), listing(3, title=None), listing(4, style=["boho"])]
    return [first, [listing(1, images=1, state="sold_out")]]


def plain_resource(page: list[Any]) -> Any:
    p = pull()
    hints: dict[str, TColumnSchema] = {name: {"data_type": "json"} for name in JSON_LISTS}

    # the source's nesting (2), which the plain resource would inherit from it
    @dlt.resource(
        name="listings", primary_key="listing_id", write_disposition="merge", columns=hints,
        max_table_nesting=SOURCE_NESTING,
    )  # fmt: skip
    def listings() -> Iterator[Any]:
        yield from p.checked("listings", validation.LISTING, "listing_id", copy.deepcopy(page))

    return listings


def fast_resource(page: list[Any]) -> Any:
    p = pull()
    return fast_listings(lambda: p.checked("listings", validation.LISTING, "listing_id", copy.deepcopy(page)))


def test_fast_listings_store_what_dlt_would(db: Database, tmp_path: Path, schemas: tuple[str, str]) -> None:
    plain, fast = schemas
    for page in pages():
        load(db, tmp_path, plain, plain_resource(page))
        load(db, tmp_path, fast, fast_resource(page))
        assert columns(db, fast) == columns(db, plain)
        assert contents(db, fast, "listings", "listing_id") == contents(db, plain, "listings", "listing_id")
    stored = contents(db, fast, "listings", "listing_id")
    # listing 1 read again with one image: its second is gone; listing 2 has none, 4 keeps both
    assert sorted(r["receipt"] for r in stored["listings__images"]) == [1, 4, 4]
    offerings = stored["listings__inventory__products__offerings"]
    assert {r["parent"][1:] for r in offerings} == {("listings__inventory__products", 0)}
    assert all(isinstance(r["price"], dict) for r in offerings)  # two levels down: kept whole
    assert columns(db, fast)["listings"]["tags"] == "jsonb"
    assert "url_570x_n" in columns(db, fast)["listings__images"]
    assert {r["record_key"] for r in stored["quarantine"]} == {"3"}
