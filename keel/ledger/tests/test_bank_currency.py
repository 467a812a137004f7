"""A bank account has a currency: its ledger account takes only that currency's lines, and its
ledger balance, reconciliation and revaluation read the amounts in it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.core.models.currency import ExchangeRate
from keel.core.services.currencies import set_rate
from keel.ledger.models import Account, Balance, Entry, Journal, Line
from keel.ledger.models.bank import BankAccount, BankReconciliation
from keel.ledger.selectors import trial_balance
from keel.ledger.services import LineInput, post_entry, verify_balances
from keel.ledger.services.bank import create_bank_account, ledger_balance
from keel.ledger.services.reconciliation import reconcile_statement_line, statement_summary
from keel.ledger.services.revaluation import (
    open_foreign_items,
    post_revaluation,
    preview_revaluation,
)
from keel.ledger.tests.bank_helpers import import_sample
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

MAR_1, MAR_16, MAR_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 16), dt.date(2026, 3, 31)
ZERO = Decimal(0)


def counts(company):
    return (Entry.objects.for_company(company).count(), Line.objects.for_company(company).count(),
            Balance.objects.for_company(company).count())


def post(company, lines, day=MAR_16, journal="BNK"):
    return post_entry(actor=None, company=company, journal=journal, date=day, lines=lines, check_permission=False)


@pytest.fixture
def rated(books, owner):
    for day, rate in ((MAR_1, "0.9"), (MAR_31, "0.92")):
        set_rate(actor=owner, company=books, currency="USD", on_date=day, rate=rate)
    return books


@pytest.fixture
def usd_bank(rated):
    return create_bank_account(actor=None, company=rated, name="Dollar account", account="1410", currency="USD",
                               check_permission=False)


@pytest.fixture
def eur_bank(rated):
    return create_bank_account(actor=None, company=rated, name="Main account", account="1400",
                               check_permission=False)


def test_a_base_currency_bank_account_takes_base_amounts_only(eur_bank):
    books = eur_bank.company
    before = counts(books)
    with pytest.raises(ValidationFailed) as exc:
        post(books, [LineInput(account="1400", currency="USD", amount_currency="100.00"),
                     LineInput(account="1200", party=party_for(books, "1200"), credit="90.00")])
    assert (exc.value.code, list(exc.value.fields)) == ("account.currency_mismatch", ["lines[0].currency"])
    assert "bank account is in EUR" in exc.value.message
    assert counts(books) == before
    post(books, [LineInput(account="1400", debit=Decimal("90.00")), LineInput(account="1200", party=party_for(books, "1200"), credit=Decimal("90.00"))])
    assert ledger_balance(eur_bank, MAR_16) == Decimal("90.00")


def test_a_foreign_bank_account_takes_its_currency_only(usd_bank):
    books = usd_bank.company
    before = counts(books)
    with pytest.raises(ValidationFailed) as exc:
        post(books, [LineInput(account="1410", debit=Decimal("90.00")), LineInput(account="1200", party=party_for(books, "1200"), credit=Decimal("90.00"))])
    assert exc.value.code == "account.currency_mismatch"
    assert counts(books) == before


def test_a_bank_account_is_refused_on_a_ledger_account_holding_another_currency(rated):
    post(rated, [LineInput(account="1400", currency="USD", amount_currency="100.00"),
                 LineInput(account="3000", credit="90.00")], day=MAR_1)
    with pytest.raises(ValidationFailed) as exc:
        create_bank_account(actor=None, company=rated, name="Main account", account="1400", check_permission=False)
    assert (exc.value.code, list(exc.value.fields)) == ("bank_account.currency_mismatch", ["currency"])
    assert not BankAccount.objects.for_company(rated).exists()
    usd = create_bank_account(actor=None, company=rated, name="Dollar account", account="1400", currency="USD",
                              check_permission=False)
    assert ledger_balance(usd, MAR_1) == Decimal("100.00")


def test_a_dollar_account_is_reconciled_in_dollars_and_its_fee_booked_at_the_days_value(usd_bank):
    books = usd_bank.company
    hooli = Party.objects.create(company=books, name="Hooli Ltd")
    post(books, [LineInput(account="1410", currency="USD", amount_currency="1000.00"),
                 LineInput(account="3000", credit="900.00")], day=MAR_1, journal="GEN")
    receipt = post(books, [LineInput(account="1410", currency="USD", amount_currency="250.00", party=hooli),
                           LineInput(account="1200", credit="225.00", party=hooli)])
    statement = import_sample(usd_bank, "csv", opening_balance=Decimal("1000.00"))
    received, fees = statement.lines.order_by("position")
    summary = statement_summary(statement)
    assert (summary.closing_balance, summary.ledger_balance) == (Decimal("1237.50"), Decimal("1250.00"))

    reconcile_statement_line(actor=None, statement_line=received, check_permission=False,
                             line_ids=[receipt.lines.get(account__code="1410").pk])
    fee = reconcile_statement_line(actor=None, statement_line=fees, write_off_account="6800",
                                   check_permission=False)

    assert [(line.account.code, line.currency_id, line.amount_currency, line.debit, line.credit)
            for line in fee.entry.lines.select_related("account").order_by("position")] == [
        ("1410", "USD", Decimal("-12.50"), ZERO, Decimal("11.50")),  # 12.50 USD at 0.92
        ("6800", "EUR", Decimal("11.50"), Decimal("11.50"), ZERO),
    ]
    summary = statement_summary(statement)
    assert summary.agrees and summary.ledger_balance == Decimal("1237.50")
    [row] = [row for row in trial_balance(books, MAR_1, MAR_31).rows if row.code == "1410"]
    assert row.closing == Decimal("1113.50")  # 900 + 225 - 11.50 in euros
    assert verify_balances(books).ok


def test_a_missing_rate_refuses_a_foreign_write_off_and_changes_nothing(usd_bank):
    books = usd_bank.company
    statement = import_sample(usd_bank, "csv", opening_balance=ZERO)
    fees = statement.lines.order_by("position").last()
    ExchangeRate.objects.filter(company=books).delete()
    before = counts(books)
    with pytest.raises(ValidationFailed) as exc:
        reconcile_statement_line(actor=None, statement_line=fees, write_off_account="6800", check_permission=False)
    assert exc.value.code == "rate.not_found"
    assert counts(books) == before and not BankReconciliation.objects.for_company(books).exists()


# -- revaluation scope -------------------------------------------------------------------------


def test_revaluation_takes_foreign_receivables_payables_and_foreign_bank_accounts_only(usd_bank, eur_bank):
    books = usd_bank.company
    customer = Party.objects.create(company=books, name="Yankee Inc")
    supplier = Party.objects.create(company=books, name="Dixie Supplies")
    post(books, journal="GEN", day=MAR_1, lines=[
        LineInput(account="1200", currency="USD", amount_currency="100.00", party=customer),   # 90.00
        LineInput(account="2100", currency="USD", amount_currency="-50.00", party=supplier),   # 45.00
        LineInput(account="1410", currency="USD", amount_currency="200.00"),                   # 180.00
        LineInput(account="6100", currency="USD", amount_currency="10.00"),                    # 9.00: an expense
        LineInput(account="1000", currency="USD", amount_currency="30.00"),                    # 27.00: fixed asset
        LineInput(account="3000", credit="261.00"),
    ])
    items = {(row.account_code, row.party_id): row for row in preview_revaluation(company=books, period_end=MAR_31).rows}
    assert set(items) == {("1200", customer.pk), ("2100", supplier.pk), ("1410", None)}
    assert [items[key].difference for key in sorted(items)] == [Decimal("2.00"), Decimal("4.00"), Decimal("-1.00")]
    revaluation = post_revaluation(actor=None, company=books, period_end=MAR_31, check_permission=False)
    assert (revaluation.gain, revaluation.loss) == (Decimal("6.00"), Decimal("1.00"))
    assert ledger_balance(usd_bank, MAR_31) == Decimal("200.00")  # only its value in euros moved


def test_foreign_lines_left_on_a_base_bank_account_are_not_revalued(rated):
    """Books from before the rule: a USD line on the euro bank's ledger account is not money in
    that bank, so revaluation leaves it alone."""
    post(rated, [LineInput(account="1400", currency="USD", amount_currency="100.00"),
                 LineInput(account="3000", credit="90.00")], day=MAR_1)
    assert [item["account_id"] for item in open_foreign_items(rated, MAR_31)] != []
    # Written directly: the service now refuses a euro bank account on this ledger account.
    BankAccount.objects.create(company=rated, name="Main account", currency_id="EUR",
                               account=Account.objects.for_company(rated).get(code="1400"),
                               journal=Journal.objects.for_company(rated).get(code="BNK"))
    assert open_foreign_items(rated, MAR_31) == []


# -- cash flow ---------------------------------------------------------------------------------


def _flow(company, date_from, date_to, **compare):
    from keel.ledger.reports import cash_flow, report_range

    return cash_flow(company, report_range(company, date_from=date_from, date_to=date_to, **compare))


def test_the_cash_flow_shows_exchange_differences_on_cash_on_their_own_line(usd_bank):
    books = usd_bank.company
    # The owner brings 1,000 USD (900.00 EUR at 0.90); at 0.92 on 31 March they are worth 920.00.
    post(books, [LineInput(account="1410", currency="USD", amount_currency="1000.00"),
                 LineInput(account="3000", credit="900.00")], day=MAR_1, journal="GEN")
    post_revaluation(actor=None, company=books, period_end=MAR_31, check_permission=False)

    march = _flow(books, MAR_1, MAR_31, compare_from=dt.date(2026, 4, 1), compare_to=dt.date(2026, 4, 30))
    assert {key: march.summary[key] for key in ("net_result", "operating", "financing", "net_change",
                                                "exchange_effect", "opening_cash", "closing_cash", "reconciles")} == {
        "net_result": Decimal("20.00"), "operating": ZERO, "financing": Decimal("900.00"),
        "net_change": Decimal("900.00"), "exchange_effect": Decimal("20.00"), "opening_cash": ZERO,
        "closing_cash": Decimal("920.00"), "reconciles": True,
    }
    rows = {row.label: (row.amount, row.compare) for row in march.rows}
    assert rows["Exchange differences on cash"] == (Decimal("-20.00"), Decimal("20.00"))
    assert rows["Effect of exchange-rate changes on cash"] == (Decimal("20.00"), Decimal("-20.00"))
    # April opens with the revaluation's reversal: the cash is back at its booked 900.00.
    assert (march.compare_summary["exchange_effect"], march.compare_summary["operating"],
            march.compare_summary["closing_cash"], march.compare_summary["reconciles"]) == (
        Decimal("-20.00"), ZERO, Decimal("900.00"), True)


def test_a_cash_flow_without_foreign_cash_has_no_exchange_line(eur_bank):
    books = eur_bank.company
    post(books, [LineInput(account="1400", debit=Decimal("500.00")), LineInput(account="3000", credit=Decimal("500.00"))])
    flow = _flow(books, MAR_1, MAR_31)
    assert flow.summary["exchange_effect"] == ZERO and flow.summary["reconciles"]
    assert "Effect of exchange-rate changes on cash" not in [row.label for row in flow.rows]
