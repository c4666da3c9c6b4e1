"""JSON encoding for cached values that round-trips exactly.

Plain JSON would turn Decimal into float and datetime into str. Values here are tagged so that Decimal,
datetime (with its timezone), date, bytes and the registered dataclasses come back equal to what went in.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

_REGISTRY: dict[str, type[Any]] = {}

T = TypeVar("T")


def cacheable(cls: type[T]) -> type[T]:
    """Register a dataclass so the codec can rebuild it by name."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} must be a dataclass to be cached")
    _REGISTRY[cls.__name__] = cls
    return cls


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _REGISTRY:
            raise TypeError(f"dataclass {name} is not registered with @cacheable")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dc": name, "f": fields}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot cache a value of type {type(value).__name__}")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$dec": Decimal,
    "$dt": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$b64": base64.b64decode,
}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$dc" in value:
        cls = _REGISTRY[value["$dc"]]
        return cls(**{k: _decode(v) for k, v in value["f"].items()})
    if "$map" in value:
        return {_decode(k): _decode(v) for k, v in value["$map"]}
    if "$tuple" in value:
        return tuple(_decode(v) for v in value["$tuple"])
    ((tag, raw),) = value.items()
    return _DECODERS[tag](raw)


def dumps(value: Any) -> bytes:
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads(data: bytes) -> Any:
    return _decode(json.loads(data))
