"""Exact conversion of Etsy's Money objects.

Etsy sends money as `{amount, divisor, currency_code}` with value = amount / divisor. The divisor is not always
100 (zero-decimal currencies use 1, some use 1000), so the value is computed with Decimal and checked to be
exact; a divisor that would need rounding is rejected rather than silently rounded.

This module is the one home of the rule. The record validator (`sources/etsy/validation.py`) quarantines any
Money object `money_problem` finds fault with, so the SQL twin `core.money(amount, divisor)` (migration 0002,
used by the set-based transforms) only ever divides by a power of ten and is exact too; a test holds the two
conversions equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext
from typing import Any, NamedTuple


class MoneyError(ValueError):
    """A Money object is malformed; the message names the field and value."""


POWERS_OF_TEN = frozenset(10**k for k in range(10))  # Etsy's divisors (1 for JPY, 100, 1000 for KWD)


class Money(NamedTuple):
    amount: Decimal
    currency_code: str


def _int_field(raw: Mapping[str, Any], name: str) -> int:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyError(f"money field {name!r} must be an integer, got {value!r}")
    return value


def to_decimal(amount: int, divisor: int) -> Decimal:
    """amount / divisor as an exact Decimal; raises when the quotient has no finite decimal form."""
    if divisor <= 0:
        raise MoneyError(f"money field 'divisor' must be a positive integer, got {divisor!r}")
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(amount) / Decimal(divisor)
        if value * divisor != amount:
            raise MoneyError(f"money amount {amount} / divisor {divisor} has no exact decimal value")
    return value


def parse_money(raw: Mapping[str, Any] | None) -> Money | None:
    """Convert an Etsy Money object (None passes through as None)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise MoneyError(f"money must be an object with amount, divisor and currency_code, got {raw!r}")
    amount = _int_field(raw, "amount")
    divisor = _int_field(raw, "divisor")
    if divisor > 0 and divisor not in POWERS_OF_TEN:
        raise MoneyError(f"money field 'divisor' must be a power of ten (1, 10, 100, ...), got {divisor!r}")
    currency = raw.get("currency_code")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MoneyError(f"money field 'currency_code' must be a 3-letter code, got {currency!r}")
    return Money(to_decimal(amount, divisor), currency.upper())


def money_problem(field: str, value: Any) -> str | None:
    """What is wrong with the Money object in `field` (naming it), or None when it converts exactly.

    The record validator asks this for every Money field of every record, so the usual shape is accepted without
    building a Decimal: an integer amount over a power of ten always divides exactly. Anything else goes through
    `parse_money`, which names the problem.
    """
    if isinstance(value, dict):
        amount, divisor, currency = value.get("amount"), value.get("divisor"), value.get("currency_code")
        if (
            type(amount) is int
            and type(divisor) is int
            and divisor in POWERS_OF_TEN
            and isinstance(currency, str)
            and len(currency) == 3
            and currency.isalpha()
        ):
            return None
    try:
        parse_money(value)
    except MoneyError as exc:
        return f"{field}: {exc}"
    return None
