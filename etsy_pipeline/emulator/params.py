"""Query and form parameter parsing with Etsy-style 400s that name the parameter."""

from __future__ import annotations

from collections.abc import Mapping

from etsy_pipeline.emulator.errors import BadRequest

MAX_OFFSET = 12_000
MIN_TIMESTAMP = 946_684_800  # 2000-01-01, the spec's minimum for every timestamp filter
SORT_ORDERS = {"asc": False, "ascending": False, "up": False, "desc": True, "descending": True, "down": True}


def integer(
    params: Mapping[str, str],
    name: str,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = False,
) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise BadRequest(f"Missing Input Parameter: [{name}]")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: expected an integer, got '{raw}'") from None
    if minimum is not None and value < minimum:
        raise BadRequest(f"Invalid value for {name}: {value} is less than the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise BadRequest(f"Invalid value for {name}: {value} is greater than the maximum of {maximum}")
    return value


def boolean(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise BadRequest(f"Invalid value for {name}: expected a boolean, got '{raw}'")


def choice(params: Mapping[str, str], name: str, allowed: list[str] | tuple[str, ...], default: str) -> str:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise BadRequest(f"Invalid value for {name}: '{raw}' is not one of {', '.join(allowed)}")
    return raw


def id_list(params: Mapping[str, str], name: str, *, maximum: int = 100) -> list[int]:
    raw = params.get(name)
    if not raw:
        raise BadRequest(f"Missing Input Parameter: [{name}]")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: expected comma-separated integers, got '{raw}'") from None
    if not ids or len(ids) > maximum:
        raise BadRequest(f"Invalid value for {name}: between 1 and {maximum} ids are allowed")
    if any(ident < 1 for ident in ids):
        raise BadRequest(f"Invalid value for {name}: ids are positive integers, got '{raw}'")
    return ids


def page(params: Mapping[str, str]) -> tuple[int, int]:
    """limit (default 25, 1..100) and offset (>= 0, at most 12,000 as Etsy enforces)."""
    limit = integer(params, "limit", default=25, minimum=1, maximum=100)
    offset = integer(params, "offset", default=0, minimum=0)
    assert limit is not None and offset is not None
    if offset > MAX_OFFSET:
        raise BadRequest("Offset provided is greater than the maximum offset allowed")
    return limit, offset


def descending(params: Mapping[str, str], default: str = "desc") -> bool:
    return SORT_ORDERS[choice(params, "sort_order", tuple(SORT_ORDERS), default)]


def includes(params: Mapping[str, str], allowed: tuple[str, ...]) -> set[str]:
    raw = params.get("includes")
    if not raw:
        return set()
    values = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(values - set(allowed))
    if unknown:
        raise BadRequest(f"Invalid value for includes: '{', '.join(unknown)}' is not one of {', '.join(allowed)}")
    return values
