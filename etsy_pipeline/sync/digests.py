"""The stored digests the pull compares Etsy's records with (`sources/etsy/digests.py`).

A record counts as unchanged only when its raw row holds the same digest *and* its core row exists (a listing:
and is not marked removed). So a record whose shaping never happened, or a listing wrongly taken for removed,
is loaded again instead of being skipped forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Engine, text

from etsy_pipeline.sources.etsy.digests import DIGEST
from etsy_pipeline.transform.raw import RAW

# raw table -> (core table, its column of Etsy's id, extra condition on the core row)
CORE_ROWS: dict[str, tuple[str, str, str]] = {
    "shops": ("core.shops", "etsy_shop_id", ""),
    # A shop's sections are one list (`transform/sections.py`): unchanged only while core holds no other section.
    "shop_sections": (
        "core.shop_sections",
        "etsy_shop_section_id",
        "AND (SELECT count(*) FROM core.shop_sections o WHERE o.shop_id = c.shop_id) = cardinality(:ids)",
    ),
    "listings": ("core.listings", "etsy_listing_id", "AND c.state <> 'removed'"),
    "receipts": ("core.orders", "etsy_receipt_id", ""),
    "ledger_entries": ("core.ledger_entries", "etsy_entry_id", ""),
    "reviews": ("core.reviews", "etsy_transaction_id", ""),
}


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
