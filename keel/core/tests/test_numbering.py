"""Gapless numbering: per company, sequence and fiscal year; never skips or repeats."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction

from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.numbering import next_number, next_numbers, validate_pattern
from keel.core.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 15)


def test_numbers_follow_the_pattern_and_count_up(company):
    assert next_number(company=company, sequence_code="invoice", on_date=DAY) == "INV-2026-00001"
    assert next_number(company=company, sequence_code="invoice", on_date=DAY) == "INV-2026-00002"


def test_each_fiscal_year_starts_again(company):
    company.fiscal_year_start_month = 4
    company.save()
    assert next_number(company=company, sequence_code="invoice", on_date=dt.date(2026, 3, 31)) == "INV-2025-00001"
    assert next_number(company=company, sequence_code="invoice", on_date=dt.date(2026, 4, 1)) == "INV-2026-00001"
    assert next_number(company=company, sequence_code="invoice", on_date=dt.date(2027, 3, 31)) == "INV-2026-00002"


def test_companies_and_sequences_do_not_share_counters(company, other_company):
    assert next_number(company=company, sequence_code="invoice", on_date=DAY) == "INV-2026-00001"
    assert next_number(company=other_company, sequence_code="invoice", on_date=DAY) == "INV-2026-00001"
    assert next_number(company=company, sequence_code="bill", on_date=DAY) == "BILL-2026-00001"


def test_a_rolled_back_document_gives_its_number_back(company):
    with pytest.raises(RuntimeError), transaction.atomic():
        next_number(company=company, sequence_code="invoice", on_date=DAY)
        raise RuntimeError("the invoice failed to issue")
    assert next_number(company=company, sequence_code="invoice", on_date=DAY) == "INV-2026-00001"


def test_a_block_of_numbers_is_consecutive(company):
    assert next_numbers(company=company, sequence_code="order", on_date=DAY, count=3) == [
        "SO-2026-00001", "SO-2026-00002", "SO-2026-00003",
    ]
    assert next_number(company=company, sequence_code="order", on_date=DAY) == "SO-2026-00004"


def test_unknown_sequence_and_bad_patterns_are_refused(company):
    with pytest.raises(NotFound) as exc:
        next_number(company=company, sequence_code="nope", on_date=DAY)
    assert exc.value.code == "sequence.not_found"
    with pytest.raises(ValidationFailed):
        validate_pattern("INV-{year}")
    with pytest.raises(ValidationFailed):
        validate_pattern("INV-{nonsense}-{number}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_assignments_never_skip_or_repeat():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under parallel requests are tested on PostgreSQL")
    company = CompanyFactory()
    taken: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                with transaction.atomic():
                    number = next_number(company=company, sequence_code="invoice", on_date=DAY)
                with lock:
                    taken.append(number)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(taken) == [f"INV-2026-{n:05d}" for n in range(1, 151)]
