"""A schema check operators can run from the UI: is the database at the migration head?"""

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.storage import migrate


@dg.op
def check_schema_at_head(context: dg.OpExecutionContext, storage: StorageResource) -> str:
    """Apply pending migrations and report the revision the database is at."""
    with storage.open() as runtime:
        migrate.upgrade(runtime.db.url)  # always, whatever this process did before
        revision = migrate.current(runtime.db.url)
    head = migrate.head()
    if revision != head:
        raise dg.Failure(f"database at revision {revision}, expected {head}")
    context.add_output_metadata({"revision": revision or "", "head": head or ""})
    return revision or ""


@dg.job(description="Bring the core and analytics schemas to the migration head and verify it.")
def migrate_database() -> None:
    check_schema_at_head()
