"""Records Etsy returns unchanged stop before dlt.

Most of what a run reads it has read before: every listing on every run (Etsy has no modified-since filter for
listings, REFERENCE.md §6), and the receipts, ledger entries and reviews a cursor's second, a second look or the
deep re-read return again. Each good record carries a keyed digest of what Etsy sent (`_digest`, stored with
the raw row, so it is written and rolled back with it); a record whose digest equals the stored row's is
counted as fetched but not loaded: a run where nothing changed writes no load package at all, and one where
a few listings changed loads those few.

The digest is taken of the record as Etsy sent it, before buyer data is encrypted (ciphertext differs on every
encryption), and keyed with a key derived from the installation's encryption key, so the stored digest of a
receipt cannot confirm a guess of its buyer's data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

DIGEST = "_digest"  # the raw column: dlt keeps the leading underscore, so it never clashes with Etsy's fields
Lookup = Callable[[str, str, Sequence[int]], Mapping[int, str]]  # (raw table, key column, ids) -> stored digests


def digest_key(secret: str, salt: bytes = b"") -> bytes:
    """The digest's key, derived from the encryption key and `salt` (what else must change every digest, such
    as the shaping code's version); blake2b takes at most 64 bytes of key."""
    return hashlib.blake2b(secret.encode() + b"\0" + salt, digest_size=32, person=b"etsy-digest").digest()


def digest(record: Mapping[str, Any], key: bytes) -> str:
    """A keyed digest of the record's content (keys sorted, so Etsy's field order does not matter)."""
    body = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(body, key=key, digest_size=16).hexdigest()


def stamped(record: Any, key: bytes) -> Any:
    """The record, given its digest in place (records are the pull's own, parsed from Etsy's answer; no copy on
    the hot path). A record that has one already, or is not an object, passes as it is."""
    if isinstance(record, dict) and DIGEST not in record:
        record[DIGEST] = digest(record, key)
    return record
