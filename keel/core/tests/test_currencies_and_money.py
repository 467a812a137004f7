"""Exchange rates, the rate lookup, and money arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import ExchangeRate
from keel.core.money import Money, parse_amount, round_amount
from keel.core.services.currencies import get_rate, set_rate


@pytest.mark.django_db
def test_the_latest_rate_on_or_before_the_date_is_used(company, owner):
    set_rate(actor=owner, company=company, currency="USD", on_date=dt.date(2026, 1, 1), rate="1.10")
    set_rate(actor=owner, company=company, currency="usd", on_date=dt.date(2026, 1, 10), rate="1.12")
    assert get_rate(company=company, currency="USD", on_date=dt.date(2026, 1, 9)) == Decimal("1.10")
    assert get_rate(company=company, currency="USD", on_date=dt.date(2026, 1, 10)) == Decimal("1.12")
    assert get_rate(company=company, currency="USD", on_date=dt.date(2027, 1, 1)) == Decimal("1.12")
    assert get_rate(company=company, currency="EUR", on_date=dt.date(2026, 1, 1)) == Decimal(1)


@pytest.mark.django_db
def test_no_rate_before_the_date_is_a_clear_error(company, owner):
    set_rate(actor=owner, company=company, currency="USD", on_date=dt.date(2026, 1, 10), rate="1.12")
    with pytest.raises(NotFound) as exc:
        get_rate(company=company, currency="USD", on_date=dt.date(2026, 1, 9))
    assert exc.value.code == "rate.not_found"
    assert "USD" in exc.value.message and "2026-01-09" in exc.value.message


@pytest.mark.django_db
def test_rates_are_per_company(company, other_company, owner):
    set_rate(actor=owner, company=company, currency="USD", on_date=dt.date(2026, 1, 1), rate="1.10")
    with pytest.raises(NotFound):
        get_rate(company=other_company, currency="USD", on_date=dt.date(2026, 1, 1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("currency", "rate", "code"),
    [("XYZ", "1", "currency.unknown"), ("USD", "-1", "rate.invalid"), ("USD", "abc", "rate.invalid"),
     ("USD", "0", "rate.invalid"), ("EUR", "1", "rate.base_currency"), ("USD", "1e20", "rate.invalid")],
)
def test_bad_rates_are_refused(company, owner, currency, rate, code):
    with pytest.raises(ValidationFailed) as exc:
        set_rate(actor=owner, company=company, currency=currency, on_date=dt.date(2026, 1, 1), rate=rate)
    assert exc.value.code == code
    assert not ExchangeRate.objects.exists()


def test_amounts_with_too_many_decimals_are_refused():
    assert parse_amount("12.34", currency="EUR") == Decimal("12.34")
    assert parse_amount("1200", currency="JPY") == Decimal(1200)
    with pytest.raises(ValidationFailed) as exc:
        parse_amount("12.345", currency="EUR")
    assert exc.value.code == "money.too_many_decimals"
    with pytest.raises(ValidationFailed):
        parse_amount("12.5", currency="JPY")
    with pytest.raises(ValidationFailed):
        parse_amount("twelve", currency="EUR")
    with pytest.raises(ValidationFailed):
        parse_amount("NaN", currency="EUR")


def test_money_refuses_to_mix_currencies_and_floats():
    with pytest.raises(ValueError):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")
    with pytest.raises(TypeError):
        Money(Decimal(1), "EUR") * 1.5
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    assert str(Money(Decimal("1234.565"), "EUR")) == "1,234.57 EUR"


@given(st.decimals(min_value=-10**9, max_value=10**9, allow_nan=False, allow_infinity=False, places=6))
def test_rounding_is_to_the_currency_unit_and_never_off_by_more_than_half(value):
    rounded = round_amount(value, "EUR")
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= Decimal("0.005")
