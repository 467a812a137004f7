"""The one amount parser: what people and files write, refused with a reason otherwise."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.core.exceptions import ValidationFailed
from keel.core.money import MAX_AMOUNT, check_amount, parse_amount


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.56", "1234.56"), ("1,234.56", "1234.56"), ("12,345,678", "12345678"), ("-5", "-5"),
    ("+.5", "0.5"), (" 7.10 ", "7.10"), ("99999999999.9999", "99999999999.9999"),
])
def test_point_separated_amounts(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("1234,56", "1234.56"), ("1.234,56", "1234.56"), ("-0,5", "-0.5"), ("12.345.678", "12345678"),
])
def test_comma_separated_amounts(text, expected):
    assert parse_amount(text, decimal_separator=",") == Decimal(expected)


@pytest.mark.parametrize(("text", "separator", "expected"), [
    ("$1,234.50", ".", "1234.50"), ("(12.50)", ".", "-12.50"), ("12.50-", ".", "-12.50"),
    ("EUR 1.234,00", ",", "1234.00"), ("1 234,00 \u20ac", ",", "1234.00"), ("1'234.00", ".", "1234.00"),
    ("-\u00a3 3.00", ".", "-3.00"), ("USD-4.00", ".", "-4.00"), ("1,005", ".", "1005"),
])
def test_lenient_amounts_of_bank_files(text, separator, expected):
    assert parse_amount(text, decimal_separator=separator, lenient=True) == Decimal(expected)


@pytest.mark.parametrize(("text", "code", "hint"), [
    ("1,5", "money.not_a_number", "use a decimal point (1.5)"),
    ("1,005", "money.ambiguous", "write 1.005 or 1005"),
    ("1_000", "money.not_a_number", "without underscores"),
    ("1e3", "money.not_a_number", "is not a number"),
    ("\u0661\u0662", "money.not_a_number", "is not a number"),
    ("NaN", "money.not_a_number", "is not a number"),
    ("", "money.not_a_number", "is empty"),
    ("100000000000", "money.too_large", "up to 99,999,999,999.9999"),
    ("1.00001", "money.too_many_decimals", "more than 4 decimals"),
])
def test_refusals_say_why(text, code, hint):
    with pytest.raises(ValidationFailed) as refused:
        parse_amount(text, field="debit", label="debit")
    assert refused.value.code == code
    assert hint in refused.value.message
    assert refused.value.fields == {"debit": [refused.value.message]}


def test_currency_decimals_bound_the_amount():
    assert parse_amount("100", currency="JPY") == Decimal(100)
    with pytest.raises(ValidationFailed) as refused:
        parse_amount("100.5", currency="JPY")
    assert refused.value.code == "money.too_many_decimals"
    assert "JPY allows at most 0 decimals" in refused.value.message


def test_decimals_and_integers_are_checked_not_parsed():
    assert parse_amount(Decimal("12.30")) == Decimal("12.30")
    with pytest.raises(ValidationFailed):
        parse_amount(10 ** 12)
    with pytest.raises(ValidationFailed):
        check_amount(Decimal("Infinity"))


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=4, allow_nan=False))
def test_every_storable_amount_round_trips_through_its_text(amount):
    assert parse_amount(f"{amount:f}") == amount
    assert parse_amount(f"{amount:,f}") == amount
    comma = f"{amount:,f}".replace(",", " ").replace(".", ",")
    assert parse_amount(comma, decimal_separator=",", lenient=True) == amount


@given(st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=4, allow_nan=False))
def test_what_is_accepted_survives_a_float_round_trip(amount):
    # SQLite stores decimals as REAL: every amount within the limit comes back exactly.
    assert Decimal(repr(float(parse_amount(str(amount))))).quantize(Decimal("0.0001")) == amount
