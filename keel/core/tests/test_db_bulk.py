"""insert_rows writes exactly the rows it is given, on SQLite (multi-row VALUES with shared
constants) as on PostgreSQL (binary COPY)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core import db_bulk
from keel.core.models import ExchangeRate

pytestmark = pytest.mark.django_db

COLUMNS = ("company_id", "currency_id", "date", "rate", "source", "created_at")
START = dt.date(2026, 1, 1)


def _when():
    now = timezone.now()
    return connection.ops.adapt_datetimefield_value(now) if connection.vendor == "sqlite" else now


def _stored(company):
    return list(ExchangeRate.objects.filter(company=company).order_by("date")
                .values_list("currency_id", "date", "rate", "source"))


def test_rows_with_constant_and_varying_columns_are_stored_as_given(company):
    when = _when()
    rows = [(company.pk, "USD" if i % 3 else "GBP", START + dt.timedelta(days=i), Decimal(f"1.{i:04d}"), "", when)
            for i in range(1200)]  # more than one SQLite statement's worth
    with transaction.atomic():
        db_bulk.insert_rows("core_exchangerate", COLUMNS, rows)
    assert _stored(company) == [(r[1], r[2], r[3], r[4]) for r in rows]


def test_every_row_the_same_but_one_column(company):
    when = _when()
    rows = [(company.pk, "USD", START + dt.timedelta(days=i), Decimal("1.5"), "ecb", when) for i in range(3)]
    with transaction.atomic():
        db_bulk.insert_rows("core_exchangerate", COLUMNS, rows)
    assert [r[2] for r in _stored(company)] == [Decimal("1.5")] * 3
    assert {r[3] for r in _stored(company)} == {"ecb"}


def test_a_single_row_and_no_rows(company):
    with transaction.atomic():
        db_bulk.insert_rows("core_exchangerate", COLUMNS, [])
        db_bulk.insert_rows("core_exchangerate", COLUMNS, [(company.pk, "USD", START, Decimal("0.9"), "x", _when())])
    assert _stored(company) == [("USD", START, Decimal("0.9"), "x")]


def test_a_bad_row_fails_the_whole_insert(company):
    """The check constraint (rate > 0) refuses the batch; the transaction writes nothing."""
    rows = [(company.pk, "USD", START + dt.timedelta(days=i), Decimal(i), "", _when()) for i in (1, 2, 0)]
    with pytest.raises(IntegrityError), transaction.atomic():
        db_bulk.insert_rows("core_exchangerate", COLUMNS, rows)
    assert _stored(company) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rates=st.lists(st.decimals(min_value=Decimal("0.0000000001"), max_value=Decimal("99999"), places=10),
                      min_size=1, max_size=60),
       sources=st.lists(st.sampled_from(["", "ecb", "1", "%s", "it's"]), min_size=1, max_size=60))
def test_any_rows_round_trip(company, rates, sources):
    when = _when()
    rows = [(company.pk, "USD", START + dt.timedelta(days=i), rate, sources[i % len(sources)], when)
            for i, rate in enumerate(rates)]
    with transaction.atomic():
        ExchangeRate.objects.filter(company=company).delete()
        db_bulk.insert_rows("core_exchangerate", COLUMNS, rows)
    assert _stored(company) == [(r[1], r[2], r[3], r[4]) for r in rows]


def test_background_inserts_write_every_chunk_in_order(company):
    when = _when()
    chunks = [[(company.pk, "USD", START + dt.timedelta(days=c * 700 + i), Decimal(f"1.{i:04d}"), f"c{c}", when)
               for i in range(700)] for c in range(5)]
    with transaction.atomic(), db_bulk.background_inserts() as insert:
        for chunk in chunks:
            insert("core_exchangerate", COLUMNS, chunk)
        insert("core_exchangerate", COLUMNS, [])
    assert _stored(company) == [(r[1], r[2], r[3], r[4]) for chunk in chunks for r in chunk]


def test_a_failed_background_insert_raises_as_djangos_error_and_writes_nothing(company):
    when = _when()
    good = [(company.pk, "USD", START + dt.timedelta(days=i), Decimal("1.1"), "", when) for i in range(600)]
    duplicate = [(company.pk, "USD", START, Decimal("1.2"), "", when)]  # same company, currency and day
    later = [(company.pk, "GBP", START, Decimal("0.9"), "", when)]
    with pytest.raises(IntegrityError), transaction.atomic(), db_bulk.background_inserts() as insert:
        insert("core_exchangerate", COLUMNS, good)
        insert("core_exchangerate", COLUMNS, duplicate)
        insert("core_exchangerate", COLUMNS, later)
    assert _stored(company) == []


def test_an_error_of_the_caller_inside_the_block_is_raised_unchanged(company):
    rows = [(company.pk, "USD", START, Decimal("1.1"), "", _when())]
    with pytest.raises(ZeroDivisionError), transaction.atomic(), db_bulk.background_inserts() as insert:
        insert("core_exchangerate", COLUMNS, rows)
        1 / 0  # noqa: B018
    assert _stored(company) == []
    with transaction.atomic(), db_bulk.background_inserts() as insert:  # the connection is usable again
        insert("core_exchangerate", COLUMNS, rows)
    assert len(_stored(company)) == 1
