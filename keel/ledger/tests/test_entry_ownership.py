"""An entry belongs to what posted it: a process's entries are undone only by its own undo,
and one source posts at most one live entry per purpose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.models import Activity, Company, SequenceCounter
from keel.ledger.choices import EntryStatus, PeriodStatus
from keel.ledger.exceptions import PostingRefused
from keel.ledger.models import Entry, FiscalYear, Line, Period, Revaluation, SettledLine
from keel.ledger.services import posting
from keel.ledger.services.closing import close_fiscal_year, reopen_fiscal_year
from keel.ledger.services.posting import (
    EntryInput,
    live_entry_for,
    post_entries_bulk,
    post_entry,
    reverse_entry,
)
from keel.ledger.services.reconciliation import reconcile_statement_line, unreconcile_statement_line
from keel.ledger.services.revaluation import undo_revaluation
from keel.ledger.services.settlements import settle_items, undo_settlement
from keel.ledger.sources import _sources, entry_source, register_entry_source
from keel.ledger.tests.bank_helpers import bank_account, import_sample
from keel.ledger.tests.factories import lines, post_sale, sale
from keel.ledger.tests.test_revaluation import a_revaluation
from keel.ledger.tests.test_settlements import an_invoice_and_its_payment

pytestmark = pytest.mark.django_db

D = Decimal


def _snapshot(company):
    """What a refused reversal must leave as it was."""
    return (Entry.objects.filter(company=company).count(), Line.objects.filter(company=company).count(),
            sorted(Entry.objects.filter(company=company).values_list("pk", "status")),
            Activity.objects.filter(company=company).count())


def _refused_plain_reversal(entry, actor, *, undo: str):
    before = _snapshot(entry.company)
    with pytest.raises(PostingRefused) as refused:
        reverse_entry(actor=actor, entry=entry, date=entry.date)
    assert refused.value.code == "entry.owned_by_source"
    assert f"'{undo}'" in refused.value.message and entry.number in refused.value.message
    assert refused.value.extra["undo"] == undo
    assert _snapshot(entry.company) == before
    return refused.value


# -- each process: the plain reversal is refused, its own undo works -----------------------


def _a_year(company):
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    post_entry(actor=None, company=company, journal="PUR", date=dt.date(2025, 5, 5), check_permission=False,
               lines=lines(("6100", "300.00", "0"), ("1400", "0", "300.00")))


def test_the_closing_entry_is_undone_only_by_reopening_the_year(books, owner):
    _a_year(books)
    closing = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    year = FiscalYear.objects.get(company=books, year=2025)
    refusal = _refused_plain_reversal(closing, owner, undo="Reopen the fiscal year")
    assert refusal.extra["undo_url"] == f"/ledger/fiscal-years/{year.pk}/reopen/"

    result = reopen_fiscal_year(actor=owner, company=books, fiscal_year=2025, reason="Late supplier bill")
    closing.refresh_from_db()
    year.refresh_from_db()
    assert closing.status == EntryStatus.REVERSED and result.reversal.reversal_of_id == closing.pk
    assert result.reversal.date == dt.date(2025, 12, 31) and result.reversal.purpose == "close"
    assert year.status == PeriodStatus.OPEN
    # The last period takes the reversal and is open; the others stay closed until reopened one by one.
    statuses = dict(Period.objects.filter(company=books, fiscal_year=year).values_list("start", "status"))
    assert statuses.pop(dt.date(2025, 12, 1)) == PeriodStatus.OPEN
    assert set(statuses.values()) == {PeriodStatus.CLOSED}
    # Income and expense are back on their accounts: the books are as before the close.
    assert sum(Line.objects.filter(company=books, account__code="4000").values_list("credit", flat=True)) - sum(
        Line.objects.filter(company=books, account__code="4000").values_list("debit", flat=True)) == D("1000.00")
    activity = Activity.objects.get(company=books, verb="ledger.fiscal_year_reopened")
    assert activity.actor == owner and activity.data["reason"] == "Late supplier bill"
    assert activity.data["entry"] == closing.number and activity.data["reversal"] == result.reversal.number
    assert live_entry_for(company=books, source_type="ledger.fiscal_year", source_id=str(year.pk), purpose="close") is None

    # The reopening's reversal is the year's history too: not reversed by hand either.
    before = _snapshot(books)
    with pytest.raises(PostingRefused) as refused:
        reverse_entry(actor=owner, entry=result.reversal, date=result.reversal.date)
    assert refused.value.code == "entry.owned_by_source"
    assert f"reversed {closing.number} for fiscal year {year.pk}" in refused.value.message
    assert _snapshot(books) == before

    # Closed again: a new live closing entry, the reversed one no longer counts.
    again = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    assert again.pk != closing.pk and again.purpose == "close"
    assert live_entry_for(company=books, source_type="ledger.fiscal_year", source_id=str(year.pk),
                          purpose="close") == again


def test_the_revaluation_entries_are_undone_only_by_undoing_the_revaluation(company, owner):
    revaluation = a_revaluation(company, owner)
    _refused_plain_reversal(revaluation.reversal, owner, undo="Undo the revaluation")
    assert revaluation.entry.purpose == "revaluation" and revaluation.entry.source_id == "2026-01-31"
    undo_revaluation(actor=owner, revaluation=revaluation)
    revaluation.refresh_from_db()
    assert revaluation.status == "undone"
    counter = Entry.objects.get(company=company, source_type="ledger.revaluation", purpose="revaluation_undo")
    _refused_plain_reversal(counter, owner, undo="Undo the revaluation")
    # The period end can be revalued again: the revaluation is back in step with the books.
    from keel.ledger.services.revaluation import post_revaluation

    again = post_revaluation(actor=owner, company=company, period_end=dt.date(2026, 1, 31))
    assert again.gain == revaluation.gain and Revaluation.objects.filter(company=company, status="posted").count() == 1


def test_the_settlement_entry_is_undone_only_by_undoing_the_settlement(books, owner, accountant):
    _party, invoice, payment = an_invoice_and_its_payment(books, owner)
    settlement = settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    refusal = _refused_plain_reversal(settlement.entry, accountant, undo="Undo the settlement")
    assert refusal.extra["undo_url"] == f"/ledger/settlements/{settlement.pk}/"
    assert SettledLine.objects.filter(settlement=settlement, is_active=True).count() == 2

    undone = undo_settlement(actor=accountant, settlement=settlement)
    settlement.entry.refresh_from_db()
    assert settlement.entry.status == EntryStatus.REVERSED and undone.reversal.reversal_of_id == settlement.entry.pk
    assert not SettledLine.objects.filter(settlement=settlement, is_active=True).exists()  # its lines are open again
    # Settled again: a new settlement, a new live entry.
    assert settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk]).entry.purpose == "settlement"


def test_the_reconciliation_entry_is_undone_only_by_unreconciling(books, accountant):
    statement = import_sample(bank_account(books), "camt053")
    _received, fees = statement.lines.order_by("position")
    entry = reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800").entry
    assert (entry.source_type, entry.source_id, entry.purpose) == ("ledger.bankstatementline", str(fees.pk),
                                                                   "reconciliation")
    refusal = _refused_plain_reversal(entry, accountant, undo="Undo the reconciliation")
    assert refusal.extra["undo_url"] == f"/ledger/bank/lines/{fees.pk}/"
    fees.refresh_from_db()
    assert fees.is_reconciled

    unreconcile_statement_line(actor=accountant, statement_line=fees)
    fees.refresh_from_db()
    entry.refresh_from_db()
    assert not fees.is_reconciled and entry.status == EntryStatus.REVERSED
    again = reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800").entry
    assert again.pk != entry.pk and again.status == EntryStatus.POSTED


def test_the_api_and_the_page_refuse_the_plain_reversal_naming_the_undo(books, owner, client_for):
    _a_year(books)
    closing = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    body = assert_error(ApiClient(owner, books).post(f"/api/ledger/entries/{closing.pk}/reverse",
                                                     {"date": "2026-01-05"}), 400, "entry.owned_by_source")
    assert "Reopen the fiscal year" in body["message"]
    web = client_for(owner)
    page = web.get(f"/ledger/entries/{closing.pk}/").content.decode()
    assert "Reopen the fiscal year" in page and f"/ledger/entries/{closing.pk}/reverse/" not in page
    confirm = web.get(f"/ledger/entries/{closing.pk}/reverse/").content.decode()
    assert "Reopen the fiscal year" in confirm and "Post the reversal" not in confirm
    response = web.post(f"/ledger/entries/{closing.pk}/reverse/", {"date": "2026-01-05"}, follow=True)
    assert "Reopen the fiscal year" in response.content.decode()
    closing.refresh_from_db()
    assert closing.status == EntryStatus.POSTED and not Entry.objects.filter(reversal_of=closing).exists()


@pytest.fixture
def invoice_source():
    """A department declaring its invoices own their entries (as billing will)."""
    source = register_entry_source("test.invoice", document="invoice", undo="Cancel the invoice",
                                   undo_service="keel.billing.services.cancel_invoice", purposes={"issue": "revenue"})
    yield source
    _sources.pop("test.invoice", None)


def test_a_department_registers_its_documents_and_only_its_undo_reverses_them(books, accountant, invoice_source):
    assert entry_source("test.invoice") == invoice_source
    entry = post_entry(actor=None, company=books, journal="SAL", date=dt.date(2026, 3, 1), lines=sale(company=books),
                       source_type="test.invoice", source_id="17", purpose="issue", check_permission=False)
    refusal = _refused_plain_reversal(entry, accountant, undo="Cancel the invoice")
    assert "invoice 17" in refusal.message and refusal.extra["undo_service"] == "keel.billing.services.cancel_invoice"
    # Another process's undo does not reach it either.
    with pytest.raises(PostingRefused):
        reverse_entry(actor=accountant, entry=entry, date=entry.date, undo_of_source="ledger.settlement")
    reversal = reverse_entry(actor=None, entry=entry, date=entry.date, undo_of_source="test.invoice",
                             check_permission=False)
    assert reversal.reversal_of_id == entry.pk and (reversal.source_type, reversal.purpose) == ("test.invoice", "issue")


# -- one live entry per source and purpose ------------------------------------------------


def _post_for(company, source_id="17", purpose="issue", amount="100.00"):
    return post_entry(actor=None, company=company, journal="SAL", date=dt.date(2026, 3, 1), lines=sale(amount, company=company),
                      source_type="test.order", source_id=source_id, purpose=purpose, check_permission=False)


def _counters(company):
    return sorted(SequenceCounter.objects.filter(company=company).values_list("pk", "last_value"))


def test_a_second_entry_for_the_same_source_and_purpose_is_refused_naming_the_first(books):
    first = _post_for(books)
    before, counters = _snapshot(books), _counters(books)
    with pytest.raises(PostingRefused) as refused:
        _post_for(books, amount="50.00")
    assert refused.value.code == "entry.source_already_posted" and first.number in refused.value.message
    assert refused.value.extra["existing_entry_id"] == first.pk
    assert _snapshot(books) == before and _counters(books) == counters  # no entry, no number taken

    # Another purpose, another source, or no purpose at all make no claim on it.
    assert _post_for(books, purpose="deposit").purpose == "deposit"
    assert _post_for(books, source_id="18").source_id == "18"
    assert _post_for(books, purpose="").purpose == ""
    assert _post_for(books, purpose="").purpose == ""

    # Once the first is reversed, the source may post its entry for that purpose again.
    reverse_entry(actor=None, entry=first, date=first.date, check_permission=False)
    assert live_entry_for(company=books, source_type="test.order", source_id="17", purpose="issue") is None
    assert _post_for(books, amount="50.00").purpose == "issue"


def test_the_same_source_and_purpose_twice_in_one_bulk_posting_is_refused(books):
    entry = EntryInput(journal="SAL", date=dt.date(2026, 3, 1), lines=sale(company=books), source_type="test.order", source_id="9",
                       purpose="issue")
    before = _snapshot(books)
    with pytest.raises(PostingRefused) as refused:
        post_entries_bulk(actor=None, company=books, entries=[entry, entry], check_permission=False)
    assert refused.value.code == "entry.source_already_posted"
    assert _snapshot(books) == before


def test_other_companies_have_their_own_sources(books, other_books):
    _post_for(books)
    assert _post_for(other_books).company_id == other_books.pk


def test_a_purpose_needs_a_source(books):
    with pytest.raises(PostingRefused) as refused:
        post_entry(actor=None, company=books, journal="SAL", date=dt.date(2026, 3, 1), lines=sale(company=books), purpose="issue",
                   check_permission=False)
    assert refused.value.code == "entry.invalid_purpose"


def test_the_database_refuses_a_second_live_entry_for_a_source_and_purpose(books):
    first = _post_for(books)
    period = Period.objects.get(company=books, start=dt.date(2026, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(company=books, journal=first.journal, date=first.date, period=period, number="X-1",
                             status=EntryStatus.POSTED, posted_at=timezone.now(), source_type="test.order",
                             source_id="17", purpose="issue")
    # A draft, or an entry for another purpose, is not live for it.
    Entry.objects.create(company=books, journal=first.journal, date=first.date, source_type="test.order",
                         source_id="17", purpose="issue")
    assert Entry.objects.filter(company=books, source_type="test.order", source_id="17").count() == 2


def test_a_writer_that_passed_the_check_meets_the_index_and_gets_the_same_refusal(books, monkeypatch):
    """What the loser of two concurrent writers sees (its check ran before the winner
    committed): the database's refusal becomes the documented one, and nothing is left."""
    first = _post_for(books)
    monkeypatch.setattr(posting, "_check_live_sources", lambda company, entries: None)
    before, counters = _snapshot(books), _counters(books)
    with pytest.raises(PostingRefused) as refused:
        _post_for(books, amount="50.00")
    assert refused.value.code == "entry.source_already_posted"
    assert refused.value.extra["existing_entry_id"] == first.pk
    assert _snapshot(books) == before and _counters(books) == counters


# -- entry numbers take their year from the fiscal-year rows ------------------------------


def test_entry_numbers_take_their_year_from_the_fiscal_year_rows(books):
    # A start month changed under the books' feet (the service now refuses it): FY2026 still
    # runs January to December in its rows, and an entry of March 2026 is numbered in 2026.
    Company.objects.filter(pk=books.pk).update(fiscal_year_start_month=4)
    books.refresh_from_db()
    assert books.fiscal_year_of(dt.date(2026, 3, 10)) == 2025
    entry = post_sale(books, day=dt.date(2026, 3, 10))
    assert entry.number == "SAL/2026/000001"
    assert FiscalYear.objects.get(company=books, year=2026).start == dt.date(2026, 1, 1)


def test_the_upgrade_gives_existing_process_entries_their_purpose(books, owner):
    """Migration 0013 on books posted before purposes existed: live entries of the close get
    theirs; a source with several live entries keeps a blank purpose instead of failing."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("keel.ledger.migrations.0013_entry_purpose").backfill_purposes
    _a_year(books)
    closing = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    year_2026 = FiscalYear.objects.get(company=books, year=2026)
    doubled = [post_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 3, 1), lines=sale(company=books),
                          source_type="ledger.fiscal_year", source_id=str(year_2026.pk), check_permission=False)
               for _ in range(2)]
    from keel.ledger.tests.test_posted_integrity import guards_off

    # As an older version posted it; the migration ran before today's guards existed.
    with guards_off():
        Entry.objects.filter(pk=closing.pk).update(purpose="")
        backfill(apps, None)
    closing.refresh_from_db()
    assert closing.purpose == "close"
    assert set(Entry.objects.filter(pk__in=[e.pk for e in doubled]).values_list("purpose", flat=True)) == {""}
