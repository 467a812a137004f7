"""Bank amounts are shown in their currency's decimals with thousands separated: whole yen,
dinars to the fils; and the messages name amounts the same way, never '1234.5000'."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from keel.core.exceptions import ValidationFailed
from keel.core.models import Currency
from keel.core.money import format_amount, format_money
from keel.ledger.models.bank import BankReconciliation, BankStatement
from keel.ledger.services.bank import create_bank_account, import_statement
from keel.ledger.tests.bank_helpers import bank_account, bank_line, receipt
from keel.web.templatetags.keel_web import money

pytestmark = pytest.mark.django_db

MAPPING = {"delimiter": ";", "date_column": "Date", "date_format": "%Y-%m-%d", "amount_column": "Amount",
           "counterparty_column": "Counterparty", "transaction_id_column": "Ref"}


def _import(bank, amount: str, *, opening: str, day: str = "2026-03-16"):
    data = f"Date;Counterparty;Amount;Ref\n{day};Hooli Ltd;{amount};TX-{day}\n".encode()
    return import_statement(actor=None, bank_account=bank, file_format="csv", data=data, mapping=MAPPING,
                            opening_balance=Decimal(opening), check_permission=False)


def _foreign_bank(company, currency: str):
    return create_bank_account(actor=None, company=company, name=f"{currency} account", account="1410",
                               currency=currency, check_permission=False)


def test_a_yen_statement_is_shown_in_whole_yen_on_every_bank_page(books, accountant, client_for):
    bank = _foreign_bank(books, "JPY")
    statement = _import(bank, "1000", opening="250000")
    client = client_for(accountant)

    # Without the activity's timestamps, whose microseconds may read ".00".
    detail = re.sub(r'datetime="[^"]*"', "", client.get(f"/ledger/bank/statements/{statement.pk}/").content.decode())
    assert "1,000" in detail and "1,000.00" not in detail
    assert "250,000 JPY" in detail and "251,000 JPY" in detail and ".00" not in detail

    reconcile = client.get(f"/ledger/bank/statements/{statement.pk}/reconcile/").content.decode()
    assert "1,000 JPY" in reconcile and "must add up to 1,000." in reconcile and "1,000.00" not in reconcile
    assert "251,000 JPY" in client.get(f"/ledger/bank/statements/?bank_account={bank.pk}").content.decode()
    account_page = client.get(f"/ledger/bank/accounts/{bank.pk}/").content.decode()
    assert "250,000" in account_page and "251,000" in account_page and "250,000.00" not in account_page
    unreconciled = client.get(f"/ledger/bank/unreconciled/?bank_account={bank.pk}").content.decode()
    assert "1,000 JPY" in unreconciled and "total 1,000 JPY" in unreconciled


def test_a_dinar_statement_is_shown_to_three_decimals(books, accountant, client_for):
    statement = _import(_foreign_bank(books, "KWD"), "1234.5", opening="0")

    page = client_for(accountant).get(f"/ledger/bank/statements/{statement.pk}/").content.decode()

    assert "1,234.500" in page


def test_the_unreconciled_report_gives_no_total_across_currencies(books, accountant, client_for):
    _import(_foreign_bank(books, "JPY"), "1000", opening="0")
    _import(bank_account(books), "12.50", opening="0")

    page = client_for(accountant).get("/ledger/bank/unreconciled/").content.decode()

    assert "1,000 JPY" in page and "12.50 EUR" in page
    assert "in several currencies: choose a bank account for a total" in page


def test_a_refused_reconciliation_names_the_amounts_in_the_currency_decimals(books, accountant, client_for):
    bank = bank_account(books)
    statement = _import(bank, "1234.50", opening="0")
    ledger_line = bank_line(receipt(books, "1000.00", day=dt.date(2026, 3, 16)))
    line = statement.lines.get()

    response = client_for(accountant).post(f"/ledger/bank/lines/{line.pk}/reconcile/",
                                           {"line_ids": [ledger_line.pk]}, follow=True)

    assert ("Line 1 (1,234.50 EUR): The ledger lines sum to 1,000.00; the statement line is 1,234.50 "
            "(difference 234.50 EUR).") in response.content.decode()
    assert not BankReconciliation.objects.exists()


def test_a_balance_gap_is_named_in_whole_yen_and_nothing_is_imported(books):
    bank = _foreign_bank(books, "JPY")
    first = _import(bank, "1000", opening="250000")

    with pytest.raises(ValidationFailed) as refused:
        _import(bank, "500", opening="252000", day="2026-04-02")

    assert refused.value.code == "statement.balance_gap"
    assert refused.value.message.startswith(
        f"The opening balance 252,000 does not continue the closing balance 251,000 of statement {first.reference} "
        "(to 2026-03-16): difference 1,000 JPY.")
    assert list(BankStatement.objects.filter(bank_account=bank)) == [first]


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    ("1234.5000", "EUR", "1,234.50"),
    ("1234567.5", "JPY", "1,234,568"),  # rounded half up to whole yen
    ("1234.5", "KWD", "1,234.500"),
    ("-1450.0000", "EUR", "-1,450.00"),
    ("-0.0001", "EUR", "0.00"),  # a rounded zero has no sign
])
def test_an_amount_is_formatted_in_its_currency_decimals(amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown
    assert format_money(Decimal(amount), Currency.objects.get(code=currency)) == shown
    assert money(Decimal(amount), Currency.objects.get(code=currency)) == shown


def test_a_currency_record_decides_its_decimals():
    assert format_money(Decimal("7.5"), Currency(code="XTS", decimals=3)) == "7.500"
    assert format_amount(Decimal("1000"), 0) == "1,000"
