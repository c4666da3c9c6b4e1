"""The Etsy dlt source: one resource per entity of one shop, merged on primary keys into `etsy_raw`.

- `shops`, `shop_sections`: small, refreshed every run. `listings`: a full scan per state (`shop.py`).
- `receipts` (`receipts.py`): incremental on `updated_timestamp` with a look-back window.
- `ledger_entries`, every payment they refer to (`payments`, batched), and the receipts Etsy changed without
  stamping them (`ledger.py`).
- `reviews`: incremental on created time.

The source does not keep its own state: it starts from the `cursors` it is given (stored in the database beside
the rows they describe) and reports in `report.cursors` how far each resource got, page by page; the caller stores
them once the data is loaded. A record equal to the stored one (`stored`, `digests.py`) is counted, not
loaded. A record that does not fit (`validation.py`) goes to the `quarantine` table with the
error and the raw JSON; the others load. The function signature is the configuration; nothing here imports Dagster.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence

import dlt
from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration
from dlt.sources import DltResource

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import EtsyClient
from etsy_pipeline.sources.etsy.context import Pull
from etsy_pipeline.sources.etsy.digests import Lookup
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.sources.etsy.ledger import ledger_resource, payments_transformer, reread_transformer
from etsy_pipeline.sources.etsy.pii import Encrypt
from etsy_pipeline.sources.etsy.receipts import receipts_resource
from etsy_pipeline.sources.etsy.settings import (
    DEFAULT_DEEP_REREAD_DAYS,
    DEFAULT_DEEP_REREAD_HOURS,
    DEFAULT_LOOKBACK_HOURS,
    LISTING_STATES,
)
from etsy_pipeline.sources.etsy.shop import listings_resource, reviews_resource, sections_resource, shops_resource


@configspec
class FromTheCaller(BaseConfiguration):
    """No field: every argument of `etsy_source` comes from its caller, never from dlt's config providers. Left to
    dlt, each of them was looked up under several names in the environment and config files on every pull."""


@dlt.source(name="etsy", max_table_nesting=2, spec=FromTheCaller)
def etsy_source(
    client: EtsyClient,
    tokens: TokenManager,
    shop_id: int,
    report: RunReport,
    full: bool = False,
    cursors: Mapping[str, int] | None = None,
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS,
    deep_reread_days: int = DEFAULT_DEEP_REREAD_DAYS,
    deep_reread_hours: int = DEFAULT_DEEP_REREAD_HOURS,
    listing_states: Sequence[str] = LISTING_STATES,
    encrypt: Encrypt | None = None,
    stored: Lookup | None = None,
    digest_key: bytes = b"",
    append: Collection[str] = (),
) -> Sequence[DltResource]:
    """Every Etsy entity of one shop, from `cursors` on. `full` ignores the cursors and re-reads everything.

    `append`: tables holding no row of the shop yet, loaded without dlt's merge (the caller removes the rows a
    load holds twice, and sets the source's `root_key` so that children keep their root's id either way).
    """
    pull = Pull(
        client, tokens, shop_id, report, full, lookback_hours * 3600, dict(cursors or {}), encrypt, stored, digest_key
    )
    now = time.time()
    receipts = receipts_resource(pull, deep_reread_days, deep_reread_hours)
    ledger = ledger_resource(pull, now)
    pending = [0]
    payments = payments_transformer(pull, ledger, pending)
    resources = [
        shops_resource(pull),
        sections_resource(pull),
        listings_resource(pull, listing_states),
        receipts,
        reviews_resource(pull, now),
        ledger,
        payments,
        reread_transformer(pull, payments, pending),
    ]
    for resource in resources:
        if TABLES.get(resource.name, resource.name) in append:
            resource.apply_hints(write_disposition="append")
    return resources


TABLES = {"receipt_rereads": "receipts"}  # resources whose table is named otherwise
