"""Reconciliation: proposals by the rules, accept, split, write-off, undo, the statement vs the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from keel.ledger.models import Entry
from keel.ledger.models.bank import BankMatch, BankReconciliation
from keel.ledger.services.bank import update_matching_rules
from keel.ledger.services.reconciliation import (
    propose_matches,
    reconcile_statement_line,
    statement_summary,
    unreconcile_statement_line,
    unreconciled_ledger_lines,
    unreconciled_statement_lines,
)
from keel.ledger.tests.bank_helpers import bank_account, bank_line, hooli, import_sample, receipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(books):
    return import_sample(bank_account(books), "camt053")


def _lines(statement):
    received, fees = statement.lines.order_by("position")
    return received, fees


def test_the_rules_propose_the_matching_receipt(books, owner, statement):
    party = hooli(books, owner)
    match = receipt(books, party=party)
    receipt(books, amount="250.00", day=dt.date(2026, 2, 1), reference="OLD")  # outside the date window
    receipt(books, amount="99.00", day=dt.date(2026, 3, 16), reference="OTHER")  # another amount
    received, fees = _lines(statement)
    proposals = propose_matches(statement)
    assert list(proposals) == [received.pk]
    best = proposals[received.pk][0]
    assert best.line_id == bank_line(match).pk and best.reasons == ["amount", "reference", "party"]


def test_no_proposals_across_companies(books, other_books, statement):
    receipt(other_books)
    assert propose_matches(statement) == {}


def test_the_date_window_is_a_rule_the_company_sets(books, owner, statement):
    receipt(books, day=dt.date(2026, 3, 1))  # 15 days before
    assert propose_matches(statement) == {}
    update_matching_rules(actor=owner, company=books, require_equal_amount=True, date_window_days=20,
                          match_reference=True, match_party=True)
    assert len(propose_matches(statement)) == 1


def test_accepting_a_proposal_reconciles_both_sides(books, accountant, statement):
    line = bank_line(receipt(books))
    received, _fees = _lines(statement)
    reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[line.pk])
    received.refresh_from_db()
    assert received.is_reconciled
    assert list(BankMatch.objects.values_list("line_id", flat=True)) == [line.pk]
    assert propose_matches(statement) == {}
    assert not unreconciled_ledger_lines(books).exists()
    assert list(unreconciled_statement_lines(books)) == [_fees]


def test_a_statement_line_split_across_two_ledger_lines(books, accountant, statement):
    first, second = bank_line(receipt(books, "200.00")), bank_line(receipt(books, "50.00", reference="INV-2"))
    received, _fees = _lines(statement)
    reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[first.pk, second.pk])
    assert BankMatch.objects.count() == 2


def test_lines_that_do_not_add_up_are_refused_with_the_difference(books, accountant, statement):
    line = bank_line(receipt(books, "240.00"))
    received, _fees = _lines(statement)
    with pytest.raises(ValidationFailed) as refused:
        reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[line.pk])
    assert refused.value.code == "reconciliation.unbalanced" and "difference 10.00" in refused.value.message
    assert not BankReconciliation.objects.exists()


def test_a_difference_is_written_off_with_an_entry_on_the_bank_journal(books, accountant, statement):
    line = bank_line(receipt(books, "240.00"))
    received, _fees = _lines(statement)
    reconciliation = reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[line.pk],
                                              write_off_account="7000", write_off_label="Exchange difference")
    entry = reconciliation.entry
    assert entry.journal.code == "BNK" and entry.status == "posted" and entry.date == dt.date(2026, 3, 16)
    assert sorted((ln.account.code, ln.debit, ln.credit) for ln in entry.lines.all()) == [
        ("1400", Decimal("10.00"), Decimal("0")), ("7000", Decimal("0"), Decimal("10.00"))]
    assert BankMatch.objects.count() == 2


def test_an_unmatched_bank_fee_is_booked_to_an_expense(books, accountant, statement):
    _received, fees = _lines(statement)
    reconciliation = reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800")
    assert sorted((ln.account.code, ln.debit, ln.credit) for ln in reconciliation.entry.lines.all()) == [
        ("1400", Decimal("0"), Decimal("12.50")), ("6800", Decimal("12.50"), Decimal("0"))]
    summary = statement_summary(statement)
    assert (summary.closing_balance, summary.ledger_balance, summary.difference) == (
        Decimal("1237.50"), Decimal("-12.50"), Decimal("1250.00"))


def test_the_statement_agrees_with_the_ledger_once_everything_is_booked(books, accountant, statement):
    from keel.ledger.services import LineInput, post_entry

    post_entry(actor=None, company=books, journal="OPN", date=dt.date(2026, 1, 1), check_permission=False,
               lines=[LineInput(account="1400", debit=Decimal("1000.00")), LineInput(account="3000", credit=Decimal("1000.00"))])
    received, fees = _lines(statement)
    reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[bank_line(receipt(books)).pk])
    reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800")
    summary = statement_summary(statement)
    assert summary.difference == 0 and summary.reconciled == summary.lines == 2


def test_undo_unlinks_and_reverses_the_entry_it_posted(books, accountant, statement):
    _received, fees = _lines(statement)
    entry = reconcile_statement_line(actor=accountant, statement_line=fees, write_off_account="6800").entry
    unreconcile_statement_line(actor=accountant, statement_line=fees)
    fees.refresh_from_db()
    entry.refresh_from_db()
    assert not fees.is_reconciled and entry.status == "reversed"
    assert Entry.objects.filter(reversal_of=entry, status="posted").exists()
    assert not BankReconciliation.objects.exists() and not BankMatch.objects.exists()
    assert statement_summary(statement).ledger_balance == 0
    assert not unreconciled_ledger_lines(books).exists()  # the reversed pair cancels out


def test_a_line_reconciled_already_is_refused(books, accountant, statement):
    line = bank_line(receipt(books))
    received, _fees = _lines(statement)
    reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[line.pk])
    with pytest.raises(Conflict) as refused:
        reconcile_statement_line(actor=accountant, statement_line=received, write_off_account="6800")
    assert refused.value.code == "statement_line.already_reconciled"
    assert "accountant@acme.test" in refused.value.message


def test_a_ledger_line_of_another_account_or_company_is_refused(books, other_books, accountant, statement):
    received, _fees = _lines(statement)
    foreign = bank_line(receipt(other_books))
    wrong_account = receipt(books).lines.get(account__code="1200")
    for line in (foreign, wrong_account):
        with pytest.raises(ValidationFailed) as refused:
            reconcile_statement_line(actor=accountant, statement_line=received, line_ids=[line.pk])
        assert refused.value.code == "reconciliation.invalid_lines"
    assert not BankReconciliation.objects.exists()


def test_a_clerk_may_not_reconcile(books, clerk, statement):
    received, _fees = _lines(statement)
    with pytest.raises(PermissionDenied):
        reconcile_statement_line(actor=clerk, statement_line=received, write_off_account="6800")
