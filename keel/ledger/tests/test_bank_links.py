"""An entry posted by reconciliation leads back to its statement line (the line's anchor on
its statement's page), from the entry page and from the general ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.core.tests.factories import member
from keel.ledger.models.bank import BankReconciliation
from keel.ledger.services.bank import import_statement
from keel.ledger.services.reconciliation import reconcile_statement_line
from keel.ledger.tests.bank_helpers import CSV_MAPPING, bank_account, import_sample
from keel.web.links import record_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(books, accountant):
    """The March statement, its bank fees booked to 6800 from the reconciliation."""
    statement = import_sample(bank_account(books), "camt053")
    fees = statement.lines.get(position=2)
    reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800",
                             write_off_label="Bank fees March")
    return statement, fees, BankReconciliation.objects.get(statement_line=fees).entry


def test_the_entry_page_links_to_the_statement_line(booked, accountant, client_for):
    statement, fees, entry = booked
    assert (entry.source_type, entry.source_id) == ("ledger.bankstatementline", str(fees.pk))
    page = client_for(accountant).get(f"/ledger/entries/{entry.pk}/").content.decode()
    assert (f'<a href="/ledger/bank/lines/{fees.pk}/">ledger.bankstatementline {fees.pk}</a>') in page
    assert record_url("ledger.bankstatementline", fees.pk) == f"/ledger/bank/lines/{fees.pk}/"


def test_the_line_link_opens_the_statement_on_the_line(booked, accountant, client_for):
    statement, fees, _entry = booked
    client = client_for(accountant)
    response = client.get(f"/ledger/bank/lines/{fees.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/ledger/bank/statements/{statement.pk}/#line-{fees.pk}"
    assert f'<tr id="line-{fees.pk}">' in client.get(f"/ledger/bank/statements/{statement.pk}/").content.decode()


def test_the_general_ledger_links_the_line_to_its_statement_line(booked, accountant, client_for):
    _statement, fees, _entry = booked
    page = client_for(accountant).get(
        "/ledger/reports/general-ledger/?account=6800&date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert f'<a href="/ledger/bank/lines/{fees.pk}/">ledger.bankstatementline #{fees.pk}</a>' in page


def test_a_line_past_the_first_page_of_its_statement_opens_that_page(books, accountant, client_for):
    header = "Export\nBooking date;Counterparty;IBAN;Text;Debit;Credit;Ref\n"
    rows = "".join(f"{1 + n % 28:02d}.03.2026;Party {n};;Invoice {n};;1,00;T{n}\n" for n in range(150))
    statement = import_statement(actor=None, bank_account=bank_account(books), file_format="csv",
                                 data=(header + rows).encode(), mapping=CSV_MAPPING, opening_balance=Decimal(0),
                                 check_permission=False)
    line = statement.lines.get(position=101)
    client = client_for(accountant)
    response = client.get(f"/ledger/bank/lines/{line.pk}/")
    assert response["Location"] == f"/ledger/bank/statements/{statement.pk}/?page=2#line-{line.pk}"
    assert f'<tr id="line-{line.pk}">' in client.get(response["Location"]).content.decode()


def test_the_line_link_needs_ledger_view_and_is_404_in_another_company(booked, client_for, outsider):
    _statement, fees, _entry = booked
    assert client_for(member(fees.company, "employee")).get(f"/ledger/bank/lines/{fees.pk}/").status_code == 403
    assert client_for(outsider).get(f"/ledger/bank/lines/{fees.pk}/").status_code == 404
