from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from etsy_pipeline.sources.etsy.validation import MONEY, problems
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.money import Money, MoneyError, money_problem, parse_money, to_decimal


@pytest.mark.parametrize(
    ("amount", "divisor", "currency", "expected"),
    [
        (2200, 100, "EUR", Decimal("22.00")),
        (1999, 100, "USD", Decimal("19.99")),
        (1500, 1, "JPY", Decimal("1500")),  # zero-decimal currency
        (850, 1, "KRW", Decimal("850")),
        (12345, 1000, "KWD", Decimal("12.345")),  # three-decimal currency
        (1, 1000, "BHD", Decimal("0.001")),
        (-250, 100, "USD", Decimal("-2.50")),  # refunds and adjustments can be negative
        (0, 100, "GBP", Decimal("0")),
        (9_223_372_036_854_775_807, 100, "USD", Decimal("92233720368547758.07")),  # int64 max stays exact
    ],
)
def test_money_is_converted_exactly(amount: int, divisor: int, currency: str, expected: Decimal) -> None:
    money = parse_money({"amount": amount, "divisor": divisor, "currency_code": currency})
    assert money == Money(expected, currency)
    assert money is not None and money.amount * divisor == amount


def test_none_stays_none() -> None:
    assert parse_money(None) is None


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"amount": "22.00", "divisor": 100, "currency_code": "USD"}, "'amount' must be an integer, got '22.00'"),
        ({"amount": 2200, "divisor": 0, "currency_code": "USD"}, "'divisor' must be a positive integer, got 0"),
        ({"amount": 2200, "currency_code": "USD"}, "'divisor' must be an integer, got None"),
        ({"amount": 2200, "divisor": 100, "currency_code": "US"}, "'currency_code' must be a 3-letter code"),
        ({"amount": True, "divisor": 100, "currency_code": "USD"}, "'amount' must be an integer, got True"),
        ([2200, 100], "money must be an object"),
    ],
)
def test_malformed_money_names_the_field(raw: object, fragment: str) -> None:
    with pytest.raises(MoneyError) as excinfo:
        parse_money(raw)  # type: ignore[arg-type]
    assert fragment in str(excinfo.value)


def test_a_divisor_that_needs_rounding_is_refused() -> None:
    with pytest.raises(MoneyError, match="no exact decimal value"):
        to_decimal(100, 3)
    assert to_decimal(1, 8) == Decimal("0.125")


def test_a_divisor_that_is_not_a_power_of_ten_is_refused_even_when_exact() -> None:
    with pytest.raises(MoneyError, match="'divisor' must be a power of ten"):
        parse_money({"amount": 300, "divisor": 3, "currency_code": "USD"})


def test_the_validator_quarantines_on_the_same_rule() -> None:
    """The record validator reports exactly what `money_problem` finds, naming the field."""
    bad = {"amount": 1999, "divisor": 3, "currency_code": "USD"}
    assert money_problem("price", bad) == "price: money field 'divisor' must be a power of ten (1, 10, 100, ...), got 3"
    found = problems({"price": bad}, {"price": (MONEY, False)})
    assert found == [money_problem("price", bad)]
    assert money_problem("price", {"amount": 1999, "divisor": 100, "currency_code": "USD"}) is None


@pytest.mark.parametrize(
    ("amount", "divisor"), [(2200, 100), (1999, 100), (1500, 1), (12345, 1000), (1, 1000), (-250, 100), (7, 10)]
)
def test_sql_money_equals_the_python_conversion(db: Database, amount: int, divisor: int) -> None:
    """`core.money` (the transforms' conversion in SQL) gives the same exact value as `to_decimal`."""
    with db.engine.connect() as conn:
        value = conn.execute(text("SELECT core.money(:a, :d)"), {"a": amount, "d": divisor}).scalar_one()
    assert value == to_decimal(amount, divisor)


@pytest.mark.parametrize(
    "value",
    [
        {"amount": 1999, "divisor": 100, "currency_code": "USD"},
        {"amount": 1500, "divisor": 1, "currency_code": "JPY"},
        {"amount": True, "divisor": 100, "currency_code": "USD"},
        {"amount": 1999, "divisor": 100.0, "currency_code": "USD"},
        {"amount": 1999, "divisor": 3, "currency_code": "USD"},
        {"amount": 1999, "divisor": 100, "currency_code": "US1"},
        {"amount": 1999, "divisor": 100},
        "19.99",
    ],
)
def test_the_quick_accept_agrees_with_the_full_conversion(value: object) -> None:
    """`money_problem` skips the Decimal for the usual shape; it must accept exactly what `parse_money` accepts."""
    try:
        parse_money(value)  # type: ignore[arg-type]
        converts = True
    except MoneyError:
        converts = False
    assert (money_problem("price", value) is None) == converts
