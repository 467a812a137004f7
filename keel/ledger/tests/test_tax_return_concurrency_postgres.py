"""Two filings of one period at once (PostgreSQL's row locks): the second waits for the first,
then gets the filed return back (same period) or is refused (an overlapping one); one return
is written."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from keel.core.exceptions import ValidationFailed
from keel.ledger.models import TaxReturn, TaxReturnBox
from keel.ledger.services.taxes import returns
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_tax_returns import sell

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("second", "expected"), [(MARCH, "same"), ((dt.date(2026, 2, 1), dt.date(2026, 3, 31)),
                                                                   "tax_return.overlaps")])
def test_a_second_filing_waits_for_the_first(company, monkeypatch, second, expected):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    sell(company, "100.00")
    locked, release = threading.Event(), threading.Event()
    compute_setup = returns.current_setup
    calls = []

    def hold_the_first(company_):  # the first filing holds its lock until the second has tried
        calls.append(1)
        if len(calls) == 1:
            locked.set()
            release.wait(10)
        return compute_setup(company_)

    monkeypatch.setattr(returns, "current_setup", hold_the_first)
    outcome: dict[str, object] = {}

    def filer(name, period):
        try:
            outcome[name] = returns.file_tax_return(actor=None, company=company, date_from=period[0],
                                                    date_to=period[1], check_permission=False)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcome[name] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=filer, args=("first", MARCH))
    first.start()
    assert locked.wait(10)
    second_thread = threading.Thread(target=filer, args=("second", second))
    second_thread.start()
    second_thread.join(1)
    assert second_thread.is_alive()  # waiting for the first filing's lock
    release.set()
    first.join(10)
    second_thread.join(10)

    filed, created = outcome["first"]
    assert created
    if expected == "same":
        assert outcome["second"] == (filed, False)
    else:
        assert isinstance(outcome["second"], ValidationFailed) and outcome["second"].code == expected
    assert list(TaxReturn.objects.for_company(company).values_list("pk", flat=True)) == [filed.pk]
    assert TaxReturnBox.objects.for_company(company).count() == 9
