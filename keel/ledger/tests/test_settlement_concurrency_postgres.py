"""Two clerks settle the same invoice at once (PostgreSQL): one settlement wins, the other is
refused, the realized difference is posted once, and a partly settled invoice is never settled
beyond its amount."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.ledger.models import Entry, SettledLine, Settlement
from keel.ledger.services.settlements import (
    Allocation,
    list_open_items,
    open_amounts,
    settle_items,
    settle_open_items,
)
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_open_items import invoice, payment
from keel.ledger.tests.test_settlements import an_invoice_and_its_payment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_settling_the_same_lines_post_one_difference(company, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    _party, invoice, payment = an_invoice_and_its_payment(company, owner)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def clerk():
        try:
            barrier.wait()
            outcomes.append(settle_items(actor=owner, company=company, lines=[invoice.pk, payment.pk]))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(outcomes) == 2 and len(refused) == 1 and refused[0].code == "settlement.already_settled"
    assert Settlement.objects.filter(company=company).count() == 1
    assert Entry.objects.filter(company=company, source_type="ledger.settlement").count() == 1


def _race(company, clerks) -> list[object]:
    """Run each clerk's settlement at once on its own connection; their outcomes."""
    barrier = threading.Barrier(len(clerks))
    outcomes: list[object] = []

    def run(settle):
        try:
            barrier.wait()
            outcomes.append(settle())
        except BaseException as exc:  # noqa: BLE001 - asserted by the caller
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(settle,)) for settle in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_settling_parts_of_one_invoice_never_settle_more_than_it(company, owner):
    """EUR 100 invoiced; two payments of 60 each settled against it at once: the first takes 60,
    the second finds 40 open and is refused; the invoice is never over-settled."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")

    set_up_books(company)
    party = Party.objects.create(company=company, name="Local Ltd")
    sale = invoice(company, party, "100.00")
    first, second = payment(company, party, "60.00"), payment(company, party, "60.00")

    outcomes = _race(company, [
        lambda paid=paid: settle_open_items(actor=owner, company=company,
                                            allocations=[Allocation(sale.pk, "60"), Allocation(paid.pk)])
        for paid in (first, second)])

    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(outcomes) == 2 and len(refused) == 1 and refused[0].code == "settlement.amount_too_large"
    assert sum(s.amount_currency for s in SettledLine.objects.filter(line=sale, is_active=True)) == 60
    [still_open] = [line for line in open_amounts(company, list_open_items(company)) if line.pk == sale.pk]
    assert still_open.open_amount_currency == 40


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_closing_the_same_base_currency_invoice_one_wins(company, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")

    set_up_books(company)
    party = Party.objects.create(company=company, name="Local Ltd")
    sale = invoice(company, party, "100.00")
    payments = [payment(company, party, "100.00"), payment(company, party, "100.00")]

    outcomes = _race(company, [lambda paid=paid: settle_items(actor=owner, company=company, lines=[sale.pk, paid.pk])
                               for paid in payments])

    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(outcomes) == 2 and len(refused) == 1 and refused[0].code == "settlement.already_settled"
    assert Settlement.objects.filter(company=company).count() == 1
    assert Entry.objects.filter(company=company, source_type="ledger.settlement").count() == 0
