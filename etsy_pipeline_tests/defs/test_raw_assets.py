"""The raw layer of the asset graph: one `etsy_raw/<entity>` asset per table the Etsy source owns."""

from __future__ import annotations

from etsy_pipeline.defs.ingest.assets import CORE_FROM_RAW, RAW_SPECS


def test_every_entity_the_source_loads_is_a_raw_asset() -> None:
    """Resources on the fast path name their tables per item; they must stay assets (the operators' lineage and
    the per-shop materializations hang on them), while follow-up readers feeding another table must not."""
    keys = {spec.key.path[-1] for spec in RAW_SPECS}
    assert keys == {"shops", "shop_sections", "listings", "receipts", "reviews", "ledger_entries", "payments"}
    assert {raw for deps in CORE_FROM_RAW.values() for raw in deps} <= keys
