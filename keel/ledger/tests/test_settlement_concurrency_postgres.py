"""Two clerks settle the same invoice and payment at once (PostgreSQL): one settlement wins,
the other is refused, and the realized difference is posted once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Entry, Settlement
from keel.ledger.services.settlements import settle_items
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
