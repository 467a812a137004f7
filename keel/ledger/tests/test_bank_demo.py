"""The bank demo: statements built from the posted bank entries, part of them reconciled, idempotent."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from keel.ledger.bank_demo import DEMO_IBAN, load_bank_demo
from keel.ledger.models import Entry
from keel.ledger.models.bank import BankAccount, BankMatch, BankStatement, BankStatementLine
from keel.ledger.services.reconciliation import statement_summary, unreconciled_ledger_lines
from keel.ledger.tests.bank_helpers import receipt
from keel.ledger.tests.factories import post_sale

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(books):
    """A few bank entries over two months (and a sale, which is not on the bank)."""
    post_sale(books)
    receipt(books, "250.00", dt.date(2026, 3, 10), "RCP-1")
    receipt(books, "120.00", dt.date(2026, 3, 20), "RCP-2")
    receipt(books, "300.00", dt.date(2026, 4, 3), "RCP-3")
    receipt(books, "80.00", dt.date(2026, 4, 9), "RCP-4")
    return books


def test_the_demo_builds_statements_from_the_bank_entries_and_reconciles_part(posted, accountant):
    started = time.monotonic()
    load_bank_demo(posted, accountant)
    assert time.monotonic() - started < 2

    bank = BankAccount.objects.get(company=posted)
    assert (bank.iban, bank.account.code) == (DEMO_IBAN, "1400")
    march, april = BankStatement.objects.filter(company=posted).order_by("date_from")
    assert (march.file_format, april.file_format) == ("camt053", "csv")
    assert [line.amount for line in march.lines.order_by("position")] == [
        Decimal("250.00"), Decimal("120.00"), Decimal("-4.90"), Decimal("1.37")]
    assert [line.amount for line in april.lines.order_by("position")] == [
        Decimal("300.00"), Decimal("80.00"), Decimal("-4.90")]
    assert april.opening_balance == march.closing_balance == Decimal("366.47")

    # March: every line reconciled; fee and interest booked on the bank journal, so it agrees.
    assert not march.lines.filter(is_reconciled=False).exists()
    summary = statement_summary(march)
    assert summary.difference == 0 and summary.reconciled == 4
    booked = Entry.objects.filter(company=posted, source_type="ledger.bankstatementline", status="posted")
    assert sorted(line.account.code for entry in booked for line in entry.lines.all()) == [
        "1400", "1400", "6800", "7100"]
    # April: half the matched lines reconciled; the rest and the fee wait on the report.
    assert list(april.lines.filter(is_reconciled=True).values_list("amount", flat=True)) == [Decimal("300.00")]
    assert statement_summary(april).difference == Decimal("-4.90")
    assert [line.amount_currency for line in unreconciled_ledger_lines(posted)] == [Decimal("80.00")]


def test_the_demo_adds_nothing_the_second_time(posted, accountant):
    load_bank_demo(posted, accountant)
    counts = (BankStatement.objects.count(), BankStatementLine.objects.count(), BankMatch.objects.count(),
              Entry.objects.count())
    load_bank_demo(posted, accountant)
    assert (BankStatement.objects.count(), BankStatementLine.objects.count(), BankMatch.objects.count(),
            Entry.objects.count()) == counts


def test_the_demo_uses_an_existing_bank_account_and_skips_books_without_bank_entries(books, accountant):
    load_bank_demo(books, accountant)
    assert not BankStatement.objects.exists()  # nothing posted on the bank yet
    receipt(books, "75.00", dt.date(2026, 5, 4), "RCP-9")
    load_bank_demo(books, accountant)
    statement = BankStatement.objects.get()
    assert statement.file_format == "csv" and statement.opening_balance == 0
    assert BankAccount.objects.count() == 1
