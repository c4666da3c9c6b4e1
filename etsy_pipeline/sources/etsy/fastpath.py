"""The big entities' fast path: rows flattened here (`flatten.py`), written as CSV files dlt imports as they are.

dlt's item normalizer turns every extracted dict into rows in Python; for receipts, ledger entries and payments
it was the slowest step of a pull. Here a resource's good records are flattened as they arrive, buffered, and
every `FLUSH_ROWS` rows written as one CSV file per table, which dlt imports into the load package untouched
(`dlt.mark.with_file_import`) and loads with PostgreSQL's COPY into the same tables, with the same columns and
bookkeeping, merged on the same keys (children replaced when their parent is read again). dlt stays the
loader: it keeps the schema, the staging tables and the merge.

The resource's table name is routed per item (`route`): a file goes to the table it was written for, a
quarantined record to `quarantine`, anything else (a record `flatten` could not reproduce) to the root table
through dlt's own normalizer. Transformers fed by such a resource still get every page's records: the resource
yields them as a `Page`, an empty list to the extractor that carries the records for the transformer.
"""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

import dlt
import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
from dlt.common.configuration.container import Container
from dlt.common.metrics import DataWriterMetrics
from dlt.common.storages.load_package import LoadPackageStateInjectableContext, PackageStorage, ParsedLoadJobFileName
from dlt.common.utils import uniq_id
from dlt.extract.extractors import ImportFileMeta
from dlt.extract.items import DataItemWithMeta
from dlt.sources import DltResource

from etsy_pipeline.sources.etsy.context import QUARANTINE_HINTS
from etsy_pipeline.sources.etsy.flatten import CHILD_COLUMNS, ROOT_COLUMNS, Flattener, TableRows, Unsupported
from etsy_pipeline.sources.etsy.settings import QUARANTINE_TABLE

FLUSH_ROWS = 10_000  # rows of all tables a set of files; 20,000 held ~60 MB more on medium, no faster
YOUNG_OBJECTS = 50_000  # the collector's first threshold while a fast path runs (CPython's default is 700)
QUARANTINE_KEYS = frozenset({"entity", "record_key", "errors", "raw"})


class FewerCollections:
    """Raise the garbage collector's first threshold while any fast path streams, and restore it after the last.

    A page parses into some 20,000 containers and the buffered rows are tens of thousands more; at CPython's
    default of a collection every 700 new containers, the collector walked each of them many times before it
    could free anything, a fifth of the extraction's CPU (bench/sync.py). None of them form cycles, so
    collecting every 50,000 frees the same memory with a fraction of the walking. Counted, so resources that dlt
    interleaves can enter and leave in any order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved: tuple[int, int, int] | None = None

    def enter(self) -> None:
        with self._lock:
            if self._active == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(max(YOUNG_OBJECTS, self._saved[0]), self._saved[1], self._saved[2])
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._saved is not None:
                gc.set_threshold(*self._saved)
                self._saved = None


FEWER_COLLECTIONS = FewerCollections()


class TableFile:
    """What a file item carries to the extractor: only the table it belongs to (routed by `route`)."""

    __slots__ = ("table",)

    def __init__(self, table: str) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"TableFile({self.table!r})"


class Page(list[Any]):
    """One page's good records for the transformers downstream; empty, so the extractor writes nothing of it."""

    def __init__(self, records: list[Any]) -> None:
        super().__init__()
        self.records = records


class End(Page):
    """The resource's last item: a transformer buffering the rows of what it was handed writes them now.

    `pages` is how many `Page` items the resource yielded before it: dlt runs a transformer's generators
    interleaved (each one a source of its own, visited in turn), so the one handed `End` may start while those
    of earlier pages still have rows to give, and must let them finish before it writes the last files.
    """

    def __init__(self, records: list[Any], pages: int = 0) -> None:
        super().__init__(records)
        self.pages = pages


class Slow(list[Any]):
    """Records `flatten` could not reproduce, for dlt's normalizer; transformers already had them in a `Page`."""


def records_of(batch: Any) -> list[Any] | None:
    """The records a transformer was handed: a `Page`'s, or a plain list; None for anything else (a file)."""
    if isinstance(batch, Page):
        return batch.records
    return batch if isinstance(batch, list) and not isinstance(batch, Slow) else None


def route(root: str) -> Callable[[Any], str]:
    """The table of each item the resource yields (a dynamic table name, evaluated per item)."""

    def table_name(item: Any) -> str:
        if isinstance(item, TableFile):
            return item.table
        if isinstance(item, dict) and item.keys() >= QUARANTINE_KEYS:
            return QUARANTINE_TABLE
        return root

    return table_name


def with_quarantine(resource: DltResource) -> DltResource:
    """Fix the quarantine table's hints now: dlt would copy them from the resource's hints when the first bad
    record comes, and by then those hold the fast path's columns of the resource's own tables."""
    resource.merge_hints(QUARANTINE_HINTS, create_table_variant=True)
    return resource


# dlt's column types as Arrow's, which format the file's cells (JSON columns hold JSON text). Any other type dlt may
# know a column by (a timestamp it detected) holds only nulls here: `Flattener` sends its values to dlt instead.
ARROW_TYPES = {"bigint": pa.int64(), "double": pa.float64(), "bool": pa.bool_()}
ARROW_CSV = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def csv_columns(table: TableRows) -> list[str]:
    """The file's columns: every key of the rows that has a type, and dlt's bookkeeping.

    A column that was only ever null has no type yet: dlt would not create it, and neither does the file.
    """
    types = table.types
    present = dict.fromkeys(chain.from_iterable(table.rows))
    return [name for name in present if name in types or name.startswith("_dlt_")]


def write_csv(table: TableRows, path: str) -> None:
    """What PostgreSQL's COPY (FORMAT CSV, NULL '', FORCE_NULL on nullable columns) reads back as dlt's types:
    numbers bare, booleans as true/false, text quoted, null as an empty field. An empty string loads as NULL, as
    it does through dlt's own CSV writer (FORCE_NULL turns its quoted "" into NULL).

    The rows go to Arrow whole (a struct array built from the dicts in C++, a key a row lacks is null) and Arrow
    formats the cells: walking the rows in Python and formatting them with the csv module was a fifth of a pull's
    Python time. JSON values are turned into their text in the rows first; the rows are not read again after.
    """
    columns = csv_columns(table)
    types = table.types
    json_columns = [name for name in columns if types.get(name) == "json"]
    if json_columns:
        for row in table.rows:
            for name in json_columns:
                value = row.get(name)
                if value is not None:
                    row[name] = orjson.dumps(value).decode()
    kinds = [types.get(name) or ("bigint" if name == "_dlt_list_idx" else "text") for name in columns]
    struct = pa.struct(
        [pa.field(name, ARROW_TYPES.get(k, pa.string())) for name, k in zip(columns, kinds, strict=True)]
    )
    try:
        array = pa.array(table.rows, type=struct)
    except pa.ArrowInvalid:  # an int past 2**53 in a double column, which Arrow will not round
        _ints_to_floats(table.rows, [name for name, kind in zip(columns, kinds, strict=True) if kind == "double"])
        array = pa.array(table.rows, type=struct)
    rows = pa.RecordBatch.from_struct_array(array)
    with pa.OSFile(path, "wb") as sink:
        sink.write((",".join(columns) + "\n").encode())
        pa_csv.write_csv(rows, sink, ARROW_CSV)


def _ints_to_floats(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Ints of double columns as the nearest double, as PostgreSQL reads their digits (and as dlt stores them)."""
    for row in rows:
        for name in columns:
            value = row.get(name)
            if type(value) is int:
                row[name] = float(value)


def known_types(schema: Any, root: str) -> dict[str, dict[str, str]]:
    """Column types dlt already has for the root table and its children (from earlier loads)."""
    found: dict[str, dict[str, str]] = {}
    for name, table in schema.tables.items():
        if name == root or name.startswith(root + "__"):
            found[name] = {c: col["data_type"] for c, col in table["columns"].items() if "data_type" in col}
    return found


def _columns(types: Mapping[str, str], fixed: Mapping[str, Mapping[str, Any]], key: str = "") -> dict[str, Any]:
    """Column hints as dlt's normalizer would infer them: nullable, except the primary key and bookkeeping."""
    columns: dict[str, Any] = {
        name: {"name": name, "data_type": kind, "nullable": name != key}
        for name, kind in types.items()
        if name not in fixed
    }
    columns.update({name: {"name": name, **props} for name, props in fixed.items()})
    return columns


class FastPath:
    """Buffers one root entity's records as rows and hands them to dlt as CSV files, table by table."""

    def __init__(
        self, root: str, primary_key: str, max_nesting: int, json_columns: frozenset[str] = frozenset(),
        flush_rows: int = FLUSH_ROWS,
    ) -> None:  # fmt: skip
        self.root = root
        self.primary_key = primary_key
        self.max_nesting = max_nesting
        self.json_columns = json_columns
        self.flush_rows = flush_rows
        self.slow = 0  # records handed to dlt's normalizer instead
        self.pages = 0  # `Page` items yielded (told to the transformers with `End`)
        self._flattener: Flattener | None = None
        self._dir: str | None = None
        self._declared: set[str] = set()

    def _start(self) -> Flattener:
        """Created inside the extraction: the load id and dlt's schema exist only then."""
        if self._flattener is None:
            load_id = dlt.current.load_package_state()["load_id"]
            known = known_types(dlt.current.source_schema(), self.root)
            self._flattener = Flattener(self.root, self.max_nesting, load_id, known, self.json_columns)
            try:
                base = dlt.current.pipeline().working_dir
            except Exception:  # no active pipeline (a bare extraction): any private directory will do
                base = None
            self._dir = tempfile.mkdtemp(prefix=f"fast_{self.root}_", dir=base)
        return self._flattener

    def add(self, records: list[Any]) -> list[Any]:
        """Buffer the records' rows; returns the records dlt must normalize itself."""
        flattener = self._start()
        slow = []
        for record in records:
            try:
                if not isinstance(record, dict):
                    raise Unsupported("not an object")
                flattener.add(record)
            except Unsupported:
                slow.append(record)
        self.slow += len(slow)
        return slow

    def flush(self) -> Iterator[Any]:
        """One file per table with rows.

        The root table's file goes through dlt's extractor (`with_file_import`), with the column hints of every
        table. A child table's file goes straight into the load package's jobs: dlt's extractor cannot take a
        file for a nested table (its extract metrics look up each table's resource, which nested tables lack),
        and its normalizer imports any CSV job in the package as it is.
        """
        flattener = self._flattener
        if flattener is None or not flattener.rows():
            return
        hints = self._hints(flattener)
        for table in flattener.tables.values():
            if table.rows and table.name != self.root:
                self._write(table, self._package_job(table.name))
        root = flattener.tables[self.root]
        path = self._write(root, os.path.join(self._dir or "", f"{self.root}.{uniq_id(8)}.csv"))
        now = time.time()
        metrics = DataWriterMetrics(path, len(root.rows), os.path.getsize(path), now, now)
        flattener.clear()
        yield DataItemWithMeta(ImportFileMeta(path, metrics, "csv", hints, False), TableFile(self.root))

    def _package_job(self, table: str) -> str:
        """Where a new job file of `table` goes in the package being extracted."""
        package: Any = Container()[LoadPackageStateInjectableContext]
        name = ParsedLoadJobFileName(table, uniq_id(8), 0, "csv").file_name()
        relative = package.storage.get_job_file_path(package.load_id, PackageStorage.NEW_JOBS_FOLDER, name)
        return str(package.storage.storage.make_full_path(relative))

    def _hints(self, flattener: Flattener) -> Any:
        """Every column found so far: the root's new ones (hints add up) and the child tables' (replaced whole)."""
        root = flattener.tables[self.root]
        columns = _columns(root.new, ROOT_COLUMNS if self.root not in self._declared else {}, self.primary_key)
        self._declared.add(self.root)
        nested: dict[str | Sequence[str], Any] = {
            # the parent named outright: for a list inside a flattened dict (`inventory.products`) dlt's default,
            # the path minus its last fragment (`listings__inventory`), is no table
            t.path: dlt.mark.make_hints(
                columns=_columns(t.types, CHILD_COLUMNS), parent_table_name=flattener.parents[t.name]
            )
            for t in flattener.tables.values()
            if t.path and (t.rows or t.name in self._declared)
        }
        self._declared.update(t.name for t in flattener.tables.values() if t.rows)
        return dlt.mark.make_hints(columns=columns, nested_hints=nested)

    @staticmethod
    def _write(table: TableRows, path: str) -> str:
        """Written aside and renamed, so dlt never sees half a file."""
        partial = path + ".part"
        write_csv(table, partial)
        os.replace(partial, path)
        return path

    def close(self) -> None:
        """Forget the files' directory. The files stay until the extraction is over (dlt links them into its
        package when the item reaches it, which with transformers attached can be after this resource ended);
        they live in the pipeline's working directory, which the runner removes with the run."""
        self._dir = None

    def feed(self, items: Iterator[Any]) -> Iterator[Any]:
        """Pass a resource's items through: batches of good records into files, the rest to dlt as they are.

        Each batch is also yielded as a `Page`: the transformers fed by the resource get their records, and dlt,
        which takes one item of each resource in turn, still interleaves the resources page by page (the order
        in which a spent quota stops them).
        """
        for item in items:
            if isinstance(item, list) and not isinstance(item, Page):
                slow = self.add(item)
                self.pages += 1
                yield Page(item)
                if slow:
                    yield Slow(slow)
                flattener = self._flattener
                if flattener is not None and flattener.rows() >= self.flush_rows:
                    yield from self.flush()
            else:
                yield item

    def finish(self, *, transformers: bool = False) -> Iterator[Any]:
        """The last files; with `transformers` (fed by this resource), then `End` to tell them to finish too."""
        try:
            yield from self.flush()
        finally:
            self.close()
        if transformers:
            yield End([], self.pages)

    def stream(self, items: Iterator[Any], *, transformers: bool = False) -> Iterator[Any]:
        """`feed` then `finish`: a resource's whole output (with fewer collections, see `FewerCollections`)."""
        FEWER_COLLECTIONS.enter()
        try:
            yield from self.feed(items)
            yield from self.finish(transformers=transformers)
        finally:
            self.close()
            FEWER_COLLECTIONS.leave()
