"""The record digest that lets a pull leave unchanged records behind (`sources/etsy/digests.py`)."""

from __future__ import annotations

import hashlib

import orjson

from etsy_pipeline.sources.etsy.digests import DIGEST, digest, digest_key, stamped

KEY = digest_key("a-key")


def test_the_digest_follows_content_not_field_order() -> None:
    one = {"receipt_id": 1, "name": "Ann", "transactions": [{"quantity": 2}]}
    reordered = {"transactions": [{"quantity": 2}], "name": "Ann", "receipt_id": 1}
    assert digest(one, KEY) == digest(reordered, KEY)
    assert digest(one, KEY) != digest(one | {"transactions": [{"quantity": 3}]}, KEY)


def test_the_digest_is_keyed_so_a_stored_one_cannot_confirm_a_guess() -> None:
    record = {"receipt_id": 1, "buyer_email": "ann@example.com"}
    plain = hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
    assert digest(record, KEY) != plain
    assert digest(record, KEY) != digest(record, digest_key("another-key"))


def test_stamping_adds_the_digest_once_and_leaves_anything_else_alone() -> None:
    record = {"listing_id": 7, "title": "Mug"}
    expected = digest(dict(record), KEY)
    assert stamped(record, KEY)[DIGEST] == expected
    assert stamped(record, digest_key("another-key"))[DIGEST] == expected  # already stamped: kept
    assert stamped([1, 2], KEY) == [1, 2]
