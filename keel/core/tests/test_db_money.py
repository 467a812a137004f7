"""Money sums in the database are exact on SQLite (REAL storage) as on PostgreSQL (NUMERIC)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from keel.core.db_money import MoneySum, decimal_add_sql
from keel.core.models import Currency, ExchangeRate

pytestmark = pytest.mark.django_db


def _rates(company, values):
    start = dt.date(2026, 1, 1)
    ExchangeRate.objects.bulk_create(
        ExchangeRate(company=company, currency_id="USD", date=start + dt.timedelta(days=i), rate=Decimal(v))
        for i, v in enumerate(values)
    )


def test_money_sum_of_many_tenths_is_exactly_their_decimal_total(company):
    _rates(company, ["0.1"] * 1000 + ["1234567.00000003"])
    total = ExchangeRate.objects.filter(company=company).aggregate(t=MoneySum("rate"))["t"]
    assert total == Decimal("1234667.00000003")
    assert isinstance(total, Decimal)


def test_money_sum_of_nothing_is_none(company):
    assert ExchangeRate.objects.filter(company=company).aggregate(t=MoneySum("rate"))["t"] is None


def test_money_sum_per_group_matches_python(company):
    _rates(company, ["0.7", "0.1", "0.2", "19.99", "0.01"])
    rows = ExchangeRate.objects.filter(company=company).values("currency_id").annotate(t=MoneySum("rate"))
    assert [r["t"] for r in rows] == [Decimal("21.00")]


def test_decimal_add_in_sql_is_exact():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {decimal_add_sql(connection, '%s', '%s')}", [Decimal("0.1"), Decimal("0.2")])
        assert Decimal(str(cursor.fetchone()[0])) == Decimal("0.3")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="shows why MoneySum exists: SQLite's own SUM drifts")
def test_plain_sum_on_sqlite_drifts_which_is_why_money_uses_money_sum(company):
    _rates(company, ["0.1"] * 1000)
    assert ExchangeRate.objects.aggregate(t=Sum("rate"))["t"] != Decimal("100")
    assert ExchangeRate.objects.aggregate(t=MoneySum("rate"))["t"] == Decimal("100")


@pytest.mark.django_db(transaction=True)
def test_currencies_come_back_after_a_flush():
    """Transactional tests flush every table; the ISO currencies must return with post_migrate."""
    call_command("flush", interactive=False, verbosity=0)
    assert Currency.objects.filter(code__in=["EUR", "USD", "JPY"]).count() == 3
