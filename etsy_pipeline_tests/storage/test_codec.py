from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from etsy_pipeline.storage import codec
from etsy_pipeline.storage.repositories.views import ListingView, Page


def test_values_round_trip_exactly() -> None:
    value = {
        "price": Decimal("19.990"),
        "tiny": Decimal("0.001"),
        "when": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=-5))),
        "day": date(2026, 2, 28),
        "raw": b"\x00\xff",
        "pair": (1, "a"),
        7: [None, True, 1.5],
    }
    back = codec.loads(codec.dumps(value))
    assert back == value
    assert str(back["price"]) == "19.990"  # scale kept, not just the value
    assert back["when"].utcoffset() == timedelta(hours=-5)


def test_dataclasses_round_trip() -> None:
    listing = ListingView(
        id=1,
        etsy_listing_id=2,
        shop_id=3,
        title="Tasse — ☕",
        state="active",
        price=Decimal("12.50"),
        currency_code="EUR",
        quantity=4,
        tags=["mug"],
        views=10,
        num_favorers=2,
        etsy_updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    page = Page(items=[listing], next_cursor="1")
    assert codec.loads(codec.dumps(page)) == page


def test_unregistered_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot cache"):
        codec.dumps(object())
