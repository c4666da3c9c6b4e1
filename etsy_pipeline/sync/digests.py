"""The stored digests the pull compares Etsy's records with (`sources/etsy/digests.py`).

A record counts as unchanged only when its raw row holds the same digest *and* core reflects that row:
- its core row exists (a listing: and is not marked removed), so a record whose shaping never happened, or a
  listing wrongly taken for removed, is loaded again instead of being skipped forever;
- no local change to it was recorded since the raw row was loaded (`core.pending_changes`): a local edit writes
  core at once, and if Etsy never takes it (a refused or abandoned push), only Etsy's record read again puts
  core back to Etsy's value; Etsy is the source of truth;
- a ledger entry's payment is in core: a payment that did not come (quarantined, or missing from Etsy's answer)
  is asked for again each time the entry is read.
Shaping itself is part of the digest's key (`shaping_version`), so a release that changes how a record is
shaped reshapes every record the next pulls read, as a full read would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text

from etsy_pipeline.sources.etsy.digests import DIGEST
from etsy_pipeline.transform.raw import RAW


def _local_change(types: str, key: str) -> str:
    """No local change to the record since its raw row was loaded (dlt's load id is the load's epoch time)."""
    return f"""AND NOT EXISTS (SELECT 1 FROM core.pending_changes p WHERE p.entity_type IN ({types})
        AND p.entity_id = r."{key}" AND p.updated_at >= to_timestamp(r._dlt_load_id::double precision))"""


# raw table -> (core table, its column of Etsy's id, extra condition on the core row `c` and the raw row `r`)
CORE_ROWS: dict[str, tuple[str, str, str]] = {
    "shops": ("core.shops", "etsy_shop_id", ""),
    # A shop's sections are one list (`transform/sections.py`): unchanged only while core holds no other section.
    "shop_sections": (
        "core.shop_sections",
        "etsy_shop_section_id",
        "AND (SELECT count(*) FROM core.shop_sections o WHERE o.shop_id = c.shop_id) = cardinality(:ids)",
    ),
    "listings": (
        "core.listings",
        "etsy_listing_id",
        "AND c.state <> 'removed' " + _local_change("'listing', 'inventory'", "listing_id"),
    ),
    "receipts": ("core.orders", "etsy_receipt_id", _local_change("'receipt'", "receipt_id")),
    "ledger_entries": (
        "core.ledger_entries",
        "etsy_entry_id",
        "AND (c.etsy_payment_id IS NULL OR EXISTS ("
        "SELECT 1 FROM core.payments y WHERE y.etsy_payment_id = c.etsy_payment_id))",
    ),
    "reviews": ("core.reviews", "etsy_transaction_id", ""),
}

SHAPING = Path(__file__).resolve().parents[1] / "transform"


@cache
def shaping_version() -> bytes:
    """A digest of the shaping code (`transform/`, its core package, the money rules): part of the records'
    digest key, so records stored under other shaping are not taken for unchanged."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted([*SHAPING.glob("*.py"), *(SHAPING / "core").glob("*.py")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    h.update((SHAPING.parent / "storage" / "money.py").read_bytes())
    return h.digest()


class StoredDigests:
    """`Lookup` over one database for one shop: which tables have digests is read once per run (a table or
    column dlt creates during the run holds no digest from before it). The listings' digests are read once for
    the whole shop, since the scan asks for all of them, page by page, in every state."""

    def __init__(self, engine: Engine, etsy_shop_id: int) -> None:
        self.engine = engine
        self.etsy_shop_id = etsy_shop_id
        self._tables: set[str] | None = None
        self._listings: dict[int, str] | None = None

    def _with_digests(self) -> set[str]:
        if self._tables is None:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE table_schema = :schema AND column_name = :column"
                    ),
                    {"schema": RAW, "column": DIGEST},
                )
                self._tables = {name for (name,) in rows}
        return self._tables

    def __call__(self, table: str, key: str, ids: Sequence[int]) -> Mapping[int, str]:
        if not ids or table not in CORE_ROWS or table not in self._with_digests():
            return {}
        if table == "listings":
            if self._listings is None:
                self._listings = self._read(table, key, "r.shop_id = :shop", {"shop": self.etsy_shop_id})
            return self._listings
        return self._read(table, key, f'r."{key}" = ANY(:ids)', {"ids": list(ids)})

    def _read(self, table: str, key: str, which: str, params: dict[str, object]) -> dict[int, str]:
        core, core_key, condition = CORE_ROWS[table]
        sql = f"""
            SELECT r."{key}", r."{DIGEST}" FROM {RAW}."{table}" r
            WHERE {which} AND r."{DIGEST}" IS NOT NULL
              AND EXISTS (SELECT 1 FROM {core} c WHERE c.{core_key} = r."{key}" {condition})
        """
        with self.engine.connect() as conn:
            return {int(ident): str(value) for ident, value in conn.execute(text(sql), params)}
