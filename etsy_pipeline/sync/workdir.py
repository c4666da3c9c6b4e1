"""dlt working directories: one per run, never shared, and what a killed run left behind.

Each run extracts into `DATA_DIR/dlt/runs/shop_<etsy id>/run_<run id>`, so two processes never touch the same
packages. After extraction a run writes `progress.json` (the cursors its package covers). If the process dies
before its package is loaded, the next run of the shop (holding the shop's lock, so the dead run is certainly
gone) loads that package, shapes it and only then stores its cursors; a run that died during extraction left no
progress, so its cursors are simply never stored and the next run reads that part again.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import dlt
from sqlalchemy.engine import make_url

from etsy_pipeline.runtime import Runtime
from etsy_pipeline.storage.crypto import ensure_private_dir
from etsy_pipeline.storage.database import libpq_url
from etsy_pipeline.sync.lock import LOADER

RAW_DATASET = "etsy_raw"
PROGRESS = "progress.json"


def dlt_credentials(url: str) -> str:
    """dlt insists on a host and a password; socket and trust authentication ignore the placeholders."""
    parsed = make_url(libpq_url(url))
    if not parsed.password:
        parsed = parsed.set(password="unused")  # noqa: S106 - a placeholder, never checked
    if not parsed.host:
        parsed = parsed.set(host="localhost")  # the `host=` query parameter still points at the socket
    # named, so that a load can wait for the statements of a load whose process died (`lock.load_lock`)
    parsed = parsed.update_query_dict({"application_name": LOADER})
    return parsed.render_as_string(hide_password=False)


def shop_dir(runtime: Runtime, etsy_shop_id: int) -> Path:
    return runtime.settings.data_dir.resolve() / "dlt" / "runs" / f"shop_{etsy_shop_id}"


@cache
def _destination(url: str) -> Any:
    """One dlt destination per database in a process: a batch of shops does not configure it again per shop.

    dlt asks a destination for its capabilities several times a pull, and each answer resolves the destination's
    whole configuration again (about 45 ms, a quarter of a no-change pull of a small shop). The answer depends
    only on the naming convention here (no explicit config is passed), so it is kept per convention.

    `create_indexes=False`: dlt would give every `_dlt_id`, of the staging tables too, a UNIQUE constraint. Nothing
    reads a child row or a staging row by its `_dlt_id`, and keeping those indexes up to date was a sixth of
    PostgreSQL's work in a full pull (bench/sync.py); the lookups the merge and the shaping make have the indexes
    of `transform/raw.py`, the root's `_dlt_id` among them.
    """
    destination = dlt.destinations.postgres(dlt_credentials(url), create_indexes=False)
    resolve = destination.capabilities
    known: dict[tuple[Any, ...], Any] = {}

    def capabilities(config: Any = None, naming: Any = None) -> Any:
        if config is not None:
            return resolve(config, naming)
        key = (type(naming), getattr(naming, "max_length", None))
        if key not in known:
            known[key] = resolve(None, naming)
        return copy.copy(known[key])

    destination.capabilities = capabilities  # type: ignore[method-assign]
    return destination


def run_pipeline(runtime: Runtime, etsy_shop_id: int, workdir: Path) -> dlt.Pipeline:
    ensure_private_dir(runtime.settings.data_dir.resolve())
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name=f"etsy_shop_{etsy_shop_id}",
        destination=_destination(runtime.db.url),
        dataset_name=RAW_DATASET,
        pipelines_dir=str(workdir),
    )
    # Cursors live in core.sync_cursors and every run starts from a fresh working directory, so dlt's own state is
    # never read back: not extracting it spares every load a `_dlt_pipeline_state` table.
    pipeline.config.restore_from_destination = False
    return pipeline


@dataclass(frozen=True)
class ListingScan:
    """Every listing a run's scan saw (changed or not: unchanged ones are not in its package) and whether the
    scan covered every state to its end, so that the listings it lacks are gone."""

    seen: list[int] = field(default_factory=list)
    complete: bool = False


@dataclass(frozen=True)
class Progress:
    """What an extracted package covers: the cursors it reaches and what its listing scan saw."""

    cursors: dict[str, int]
    listings: ListingScan

    def write(self, workdir: Path) -> None:
        listings = {"seen": self.listings.seen, "complete": self.listings.complete}
        (workdir / PROGRESS).write_text(json.dumps({"cursors": self.cursors, "listings": listings}))

    @classmethod
    def read(cls, workdir: Path) -> Progress | None:
        try:
            raw: Any = json.loads((workdir / PROGRESS).read_text())
            listings = raw["listings"]  # an older file has a flag here: no removals from it
            scan = (
                ListingScan([int(i) for i in listings["seen"]], bool(listings["complete"]))
                if isinstance(listings, dict)
                else ListingScan()
            )
            return cls({k: int(v) for k, v in raw["cursors"].items()}, scan)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def leftovers(runtime: Runtime, etsy_shop_id: int) -> list[Path]:
    """Working directories of earlier runs of the shop that did not clean up after themselves."""
    base = shop_dir(runtime, etsy_shop_id)
    return sorted(p for p in base.glob("run_*") if p.is_dir()) if base.exists() else []


def remove(workdir: Path) -> None:
    """Completed packages hold buyer data (encrypted, but still): nothing is kept once it is in the database."""
    shutil.rmtree(workdir, ignore_errors=True)
