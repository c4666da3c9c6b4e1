"""The payments transformer loses no payment when dlt runs its generators interleaved.

dlt makes each generator a transformer returns a source of its own and visits the sources in turn, so the
generator handed the ledger's `End` starts while those of earlier batches are part-way through. A batch of more
than 100 payment references takes several calls, whose answers one generator hands on step by step: the `End`
generator must not write the last files before those steps are done. Etsy here is the emulator; the payments
are counted in PostgreSQL after dlt loaded them, against the payments Etsy returns for the same entries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from sqlalchemy import text

from etsy_pipeline.sources.etsy.context import Pull
from etsy_pipeline.sources.etsy.fastpath import FastPath
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.sources.etsy.ledger import SOURCE_NESTING, payments_transformer, refers_to_payment
from etsy_pipeline.sources.etsy.settings import MAX_IDS
from etsy_pipeline.storage.database import Database
from etsy_pipeline.sync.runner import configure_dlt
from etsy_pipeline.sync.workdir import dlt_credentials
from etsy_pipeline_tests.etsy.conftest import Connected

BATCH = 500  # entries referring to payments: several payments calls (MAX_IDS references each), handed on one by one


def test_every_payment_is_loaded_though_dlt_runs_the_batches_generators_interleaved(
    connected: Connected, db: Database, tmp_path: Path
) -> None:
    path = f"/shops/{connected.shop_id}/payment-account/ledger-entries"
    now = int(time.time())
    pages = connected.client.pages(path, tokens=connected.tokens, min_created=now - 3 * 365 * 86_400, max_created=now)
    entries = [e for page in pages for e in page.results]
    referring = [e for e in entries if refers_to_payment(e)][:BATCH]
    assert len(referring) == BATCH
    # entries about no payment (a listing fee): the emulator's ledger of a tiny shop is all sales and refunds
    others = [
        {**e, "entry_id": e["entry_id"] + 10**9, "reference_type": "listing", "ledger_type": "listing_fee"}
        for e in referring[:10]
        if not e.get("payment_adjustments")
    ]
    assert others and not any(refers_to_payment(e) for e in others)
    pull = Pull(connected.client, connected.tokens, connected.shop_id, RunReport(), True)

    @dlt.resource(name="ledger_entries", primary_key="entry_id", write_disposition="merge")
    def ledger() -> Iterator[Any]:
        # The second batch refers to no payment: its generator hands on the first batch's answers, one call at a
        # time, while the `End` generator, with nothing left to ask, would write the last files at once.
        fast = FastPath("ledger_entries", "entry_id", SOURCE_NESTING)
        yield from fast.stream(iter([referring, others]), transformers=True)

    payments = payments_transformer(pull, ledger, [0])
    configure_dlt(str(tmp_path))
    dataset = f"t_pay_{uuid.uuid4().hex[:8]}"
    pipeline = dlt.pipeline(
        pipeline_name=dataset,
        destination=dlt.destinations.postgres(dlt_credentials(db.url)),
        dataset_name=dataset,
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    try:
        pipeline.run([ledger, payments], loader_file_format="csv")
        with db.engine.connect() as conn:
            loaded = {r[0] for r in conn.execute(text(f'SELECT payment_id FROM "{dataset}".payments'))}
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{dataset}" CASCADE'))
    etsy = set()
    for i in range(0, len(referring), MAX_IDS):
        ids = ",".join(str(e["entry_id"]) for e in referring[i : i + MAX_IDS])
        answer = connected.client.get(f"{path}/payments", tokens=connected.tokens, ledger_entry_ids=ids)
        etsy |= {p["payment_id"] for p in answer["results"]}
    assert pull.report.stopped is None
    assert loaded == etsy
