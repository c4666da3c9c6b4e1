"""dlt's relational normalization of one record, done here so the big entities can skip dlt's item normalizer.

dlt normalizes every extracted dict in Python (flattening, typing, child rows, ids), and for a shop's receipts,
ledger entries and payments that step took longer than extracting them. `Flattener` reproduces what dlt's
`relational` normalizer stores for our records, row for row: nested dicts flattened into `parent__child`
columns up to the table's nesting level, lists into child tables with `_dlt_parent_id`, `_dlt_list_idx`,
`_dlt_root_id` (root tables merge) and dlt's own deterministic child `_dlt_id`, the root's `_dlt_load_id`, and
each value's column type as dlt infers it.

What it cannot reproduce exactly (a value whose type differs from its column's, a string dlt would detect as a
timestamp, a list of lists, an unusual name) raises `Unsupported`: the caller hands that record to dlt's own
normalizer instead, so the stored data is the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any

from dlt.common.normalizers.json.helpers import get_nested_row_hash
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.normalizers.utils import generate_dlt_id
from dlt.common.schema.detections import is_iso_timestamp

# dlt's type for each JSON value type (`relational` normalizer, `py_type_to_sc_type`)
DLT_TYPES: dict[type, str] = {bool: "bool", int: "bigint", float: "double", str: "text", dict: "json", list: "json"}
INT64 = (-(2**63), 2**63 - 1)
NULL_ONLY = frozenset({type(None)})
BOOKKEEPING = frozenset({"_dlt_id", "_dlt_load_id", "_dlt_root_id", "_dlt_parent_id", "_dlt_list_idx"})
# dlt's naming for PostgreSQL identifiers (63 bytes at most)
NAMING = NamingConvention(max_length=63)

ROOT_COLUMNS: dict[str, dict[str, Any]] = {
    "_dlt_load_id": {"data_type": "text", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True},
}
CHILD_COLUMNS: dict[str, dict[str, Any]] = {
    "_dlt_root_id": {"data_type": "text", "nullable": False, "root_key": True},
    "_dlt_parent_id": {"data_type": "text", "nullable": False, "parent_key": True},
    "_dlt_list_idx": {"data_type": "bigint", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True},
}


class Unsupported(Exception):
    """The record needs dlt's own normalizer: storing it here could differ from what dlt would store."""


@lru_cache(maxsize=4096)
def column_name(key: str) -> str:
    if not key or key.isspace():
        raise Unsupported("empty key")
    return NAMING.normalize_identifier(key)


@lru_cache(maxsize=1024)
def table_name(*fragments: str) -> str:
    return NAMING.shorten_fragments(*fragments)


@dataclass
class TableRows:
    """One table's rows of a batch and the types of its columns (those dlt knows plus the ones found here)."""

    name: str
    path: tuple[str, ...]  # name fragments below the root (empty for the root table), as dlt's nested hints take them
    types: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    new: dict[str, str] = field(default_factory=dict)  # columns dlt does not know yet
    accepted: dict[str, set[type]] = field(default_factory=dict)  # value types already checked, per column

    def __post_init__(self) -> None:
        for name, kind in self.types.items():
            self.accept(name, kind)

    def accept(self, name: str, kind: str) -> None:
        types = self.accepted.setdefault(name, {type(None)})
        types.update(t for t, k in DLT_TYPES.items() if k == kind)
        if kind == "double":
            types.add(int)


@dataclass
class Nested:
    """A nested dict of a shape: where its columns go, and the plan of the shape it had last time.

    Nested dicts (Etsy's money objects: eight in a receipt, two in each line item) keep their shape from record to
    record, so comparing the dict's keys and value types with the last ones finds its plan without building and
    hashing a shape key each time."""

    key: str
    path: tuple[str, ...]
    keys: tuple[str, ...] = ()
    types: tuple[type, ...] = ()
    plan: Plan | None = None


@dataclass
class Plan:
    """How to flatten one shape of record whose value types are all known to fit their columns."""

    copy_all: bool  # top level, every column named as its key: copy the record, then take the dicts and lists out
    columns: list[tuple[str, str]] = field(default_factory=list)  # key -> column
    ints: list[str] = field(default_factory=list)  # keys holding ints (their range is checked every time)
    dicts: list[Nested] = field(default_factory=list)  # a nested dict's key, the path of its columns, its last plan
    lists: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # key -> child's name fragments
    _ints: Callable[[dict[str, Any]], Any] | None = None

    def ready(self) -> Plan:
        if self.ints:
            self._ints = itemgetter(*self.ints) if len(self.ints) > 1 else (lambda r, k=self.ints[0]: (r[k],))
        return self

    def apply(
        self, flattener: Flattener, table: TableRows, record: dict[str, Any], level: int, row: dict[str, Any],
        lists: list[tuple[tuple[str, ...], list[Any]]], unchecked: list[tuple[TableRows, str, Any]],
    ) -> None:  # fmt: skip
        if self._ints is not None:
            ints = self._ints(record)
            if min(ints) < INT64[0] or max(ints) > INT64[1]:
                raise Unsupported(f"{table.name}: an int does not fit a bigint")
        if self.copy_all:
            row.update(record)
            for nested in self.dicts:
                del row[nested.key]
            for key, _ in self.lists:
                del row[key]
        else:
            for key, column in self.columns:
                row[column] = record[key]
        for nested in self.dicts:
            value = record[nested.key]
            plan = nested.plan
            if plan is not None and tuple(value) == nested.keys and tuple(map(type, value.values())) == nested.types:
                plan.apply(flattener, table, value, level - 1, row, lists, unchecked)
            else:
                flattener._flatten(table, value, level - 1, nested.path, row, lists, unchecked, nested)
        for key, fragments in self.lists:
            lists.append((fragments, record[key]))


class Flattener:
    """Turns root records into rows of the root table and its child tables, as dlt would store them.

    `known` holds dlt's current column types per table (from the pipeline's schema), so a record that would
    make dlt add a variant column goes to dlt instead; `json_columns` are columns dlt keeps as JSON by hint.
    """

    def __init__(
        self,
        root: str,
        max_nesting: int,
        load_id: str,
        known: Mapping[str, Mapping[str, str]] | None = None,
        json_columns: frozenset[str] = frozenset(),
    ) -> None:
        self.root = root
        self.max_nesting = max_nesting
        self.load_id = load_id
        self.json_columns = json_columns
        self.tables: dict[str, TableRows] = {}
        self._names: dict[tuple[str, tuple[str, ...]], dict[str, tuple[str, str]]] = {}  # key -> column, name
        self._shapes: dict[tuple[Any, ...], Plan] = {}
        self.parents: dict[str, str] = {}  # child table -> the table its rows hang off
        self._known = {name: dict(columns) for name, columns in (known or {}).items()}
        self.table(root, ())

    def table(self, name: str, path: tuple[str, ...]) -> TableRows:
        rows = self.tables.get(name)
        if rows is None:
            rows = self.tables[name] = TableRows(name, path, dict(self._known.get(name, {})))
        return rows

    def rows(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())

    def clear(self) -> None:
        """Drop the rows (written out); the column types stay, they are dlt's now."""
        for t in self.tables.values():
            t.rows.clear()
            t.new.clear()

    def add(self, record: dict[str, Any]) -> None:
        """Add the record's rows, all or none; raises `Unsupported` (adding nothing) when dlt must do it."""
        out: list[tuple[TableRows, dict[str, Any]]] = []
        unchecked: list[tuple[TableRows, str, Any]] = []  # values of a type not yet seen in their column
        self._row(record, self.root, (), self.max_nesting, None, 0, None, out, unchecked)
        if unchecked:
            found: dict[tuple[str, str], str] = {}
            for table, name, value in unchecked:
                self._check(table, name, value, found)
            for (table_key, name), dlt_type in found.items():
                table = self.tables[table_key]
                table.types[name] = table.new[name] = dlt_type
                table.accept(name, dlt_type)
        for table, row in out:
            table.rows.append(row)

    def _check(self, table: TableRows, name: str, value: Any, found: dict[tuple[str, str], str]) -> None:
        """A value of a type not seen in its column yet: may dlt store it there as it is?"""
        kind = DLT_TYPES.get(type(value))
        if kind is None:
            raise Unsupported(f"{table.name}.{name}: {type(value).__name__}")
        if kind == "bigint" and not INT64[0] <= value <= INT64[1]:
            raise Unsupported(f"{table.name}.{name}: {value} does not fit a bigint")
        have = table.types.get(name)
        if have is None:
            have = found.get((table.name, name))
            if have is None:
                if kind == "text" and is_iso_timestamp(str, value):
                    raise Unsupported(f"{table.name}.{name}: dlt would detect a timestamp")
                found[(table.name, name)] = kind
                return
        if have != kind and not (have == "double" and kind == "bigint"):
            raise Unsupported(f"{table.name}.{name}: {kind} in a {have} column")
        if (table.name, name) not in found:  # the column is dlt's already: this type is fine from now on
            table.accepted.setdefault(name, {type(None)}).add(type(value))

    def _flatten(
        self, table: TableRows, record: dict[str, Any], level: int, path: tuple[str, ...], row: dict[str, Any],
        lists: list[tuple[tuple[str, ...], list[Any]]], unchecked: list[tuple[TableRows, str, Any]],
        slot: Nested | None = None,
    ) -> None:  # fmt: skip
        """dlt's `_flatten`: nested dicts into `a__b` columns while the nesting level allows, lists set aside.

        Records of one entity share a few shapes (the same keys with the same value types): the first record of
        a shape is flattened and checked value by value, and once all its types are known in their columns the
        shape's `Plan` does the rest with a few dict operations per record.
        """
        keys, types = tuple(record), tuple(map(type, record.values()))
        shape = (table.name, path, level, keys, types)
        plan = self._shapes.get(shape)
        if plan is not None:
            if slot is not None:
                slot.keys, slot.types, slot.plan = keys, types, plan
            plan.apply(self, table, record, level, row, lists, unchecked)
            return
        before = len(unchecked)
        names = self._names.get((table.name, path))
        if names is None:
            names = self._names[(table.name, path)] = {}
        accepted = table.accepted
        compiled = Plan(copy_all=not path)
        for key, value in record.items():
            pair = names.get(key)
            if pair is None:
                name = column_name(key)
                pair = names[key] = (table_name(*path, name) if path else name, name)
            nested = pair[0]
            kind = type(value)
            if (kind is dict or kind is list) and level > 0 and not self._json(table, nested):
                if kind is dict:
                    slot_of_value = Nested(key, (*path, pair[1]))
                    compiled.dicts.append(slot_of_value)
                    self._flatten(table, value, level - 1, slot_of_value.path, row, lists, unchecked, slot_of_value)
                else:
                    compiled.lists.append((key, (*path, pair[1])))
                    lists.append(((*path, pair[1]), value))
                continue
            row[nested] = value
            compiled.columns.append((key, nested))
            compiled.copy_all = compiled.copy_all and key == nested
            if kind is int:
                compiled.ints.append(key)
            if value is not None:
                ok = accepted.get(nested)
                if ok is None or kind not in ok:
                    unchecked.append((table, nested, value))
                elif kind is int and not INT64[0] <= value <= INT64[1]:
                    raise Unsupported(f"{table.name}.{nested}: {value} does not fit a bigint")
        if len(unchecked) == before:  # every type of this shape is accepted in its column: reuse from now on
            self._shapes[shape] = compiled.ready()
            if slot is not None:
                slot.keys, slot.types, slot.plan = keys, types, compiled

    def _json(self, table: TableRows, column: str) -> bool:
        """dlt keeps a dict or list whole in a column typed (or hinted) as JSON."""
        return column in self.json_columns or table.types.get(column) == "json"

    def _row(
        self, record: dict[str, Any], name: str, path: tuple[str, ...], level: int, parent_id: str | None,
        index: int, root_id: str | None, out: list[tuple[TableRows, dict[str, Any]]],
        unchecked: list[tuple[TableRows, str, Any]],
    ) -> None:  # fmt: skip
        table = self.table(name, path)
        if not BOOKKEEPING.isdisjoint(record):
            raise Unsupported("the record carries dlt's own columns")
        row: dict[str, Any] = {}
        lists: list[tuple[tuple[str, ...], list[Any]]] = []
        self._flatten(table, record, level, (), row, lists, unchecked)
        if parent_id is None:
            row_id = row["_dlt_id"] = generate_dlt_id()
            row["_dlt_load_id"] = self.load_id
            root_id = row_id
        else:
            row["_dlt_root_id"] = root_id
            row["_dlt_parent_id"] = parent_id
            row["_dlt_list_idx"] = index
            row_id = row["_dlt_id"] = get_nested_row_hash(parent_id, name, index)
        out.append((table, row))
        for fragments, items in lists:
            child = table_name(name, *fragments)
            child_path = (*path, *fragments)
            self.parents.setdefault(child, name)
            for n, item in enumerate(items):
                if type(item) is dict:
                    self._row(item, child, child_path, level - 1, row_id, n, root_id, out, unchecked)
                else:  # dlt wraps scalars in a `value` column; lists of lists need its intermediary tables
                    if type(item) is list:
                        raise Unsupported(f"{child}: a list of lists")
                    self._row({"value": item}, child, child_path, level - 1, row_id, n, root_id, out, unchecked)
