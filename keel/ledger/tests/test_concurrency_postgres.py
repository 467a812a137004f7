"""Parallel posters on the same accounts (PostgreSQL): no lost balance updates, no number gaps."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from keel.ledger.models import Balance, Entry
from keel.ledger.services import verify_balances
from keel.ledger.tests.factories import party_for, post_sale, set_up_books

POSTERS, EACH = 4, 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_posters_keep_balances_and_numbers_right(company):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    party_for(company, "1200")  # the sales' customer, made before the posters race to make it
    errors: list[BaseException] = []
    barrier = threading.Barrier(POSTERS)

    def poster():
        try:
            barrier.wait()
            for _ in range(EACH):
                post_sale(company, amount="10.00", day=dt.date(2026, 3, 15))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poster) for _ in range(POSTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = POSTERS * EACH
    numbers = sorted(Entry.objects.for_company(company).values_list("number", flat=True))
    assert numbers == [f"SAL/2026/{n:06d}" for n in range(1, total + 1)]
    receivable = Balance.objects.for_company(company).get(account__code="1200")
    assert (receivable.debit, receivable.line_count) == (Decimal("10.00") * total, total)
    assert verify_balances(company).ok
