"""Entries that mix currencies: an entry balances in the company's currency, each line keeps
its own currency and amount, and the rounding of derived foreign lines never unbalances it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.core.tests.factories import CompanyFactory
from keel.ledger.models import Balance, Entry, Line
from keel.ledger.selectors import trial_balance
from keel.ledger.services import (
    EntryInput,
    LineInput,
    create_draft_entry,
    post_draft_entry,
    post_entries_bulk,
    post_entry,
    verify_balances,
)
from keel.ledger.services.bank import create_bank_account, ledger_balance
from keel.ledger.services.revaluation import preview_revaluation
from keel.ledger.tests.factories import DAY, party_for, set_up_books

pytestmark = pytest.mark.django_db

ZERO = Decimal(0)


def counts(company):
    return (Entry.objects.for_company(company).count(), Line.objects.for_company(company).count(),
            Balance.objects.for_company(company).count())


def posted_lines(entry):
    return [(line.account.code, line.currency_id, line.amount_currency, line.debit, line.credit)
            for line in entry.lines.select_related("account").order_by("position")]


def post(company, lines, journal="GEN", day=DAY):
    return post_entry(actor=None, company=company, journal=journal, date=day, lines=lines, check_permission=False)


def refused(company, code, lines):
    before = counts(company)
    with pytest.raises(ValidationFailed) as exc:
        post(company, lines)
    assert exc.value.code == code
    assert counts(company) == before, "a refused posting wrote something"
    return exc.value


@pytest.fixture
def customer(books):
    return Party.objects.create(company=books, name="Yankee Inc")


@pytest.fixture
def usd_rate(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=DAY, rate="0.9")
    return books


def test_a_foreign_invoice_posts_against_revenue_in_the_company_currency(usd_rate, customer):
    books = usd_rate
    entry = post(books, [
        LineInput(account="1200", currency="USD", amount_currency="100.00", party=customer),
        LineInput(account="4000", credit="90.00"),
    ], journal="SAL")

    assert posted_lines(entry) == [("1200", "USD", Decimal("100.00"), Decimal("90.00"), ZERO),
                                   ("4000", "EUR", Decimal("-90.00"), ZERO, Decimal("90.00"))]
    usd = Balance.objects.for_company(books).get(account__code="1200", currency_id="USD")
    assert (usd.debit, usd.amount_currency) == (Decimal("90.00"), Decimal("100.00"))
    assert trial_balance(books, DAY, DAY).is_balanced
    assert verify_balances(books).ok


def test_a_foreign_receipt_into_the_base_bank_posts_with_its_realized_difference(usd_rate, customer, owner):
    books = usd_rate
    bank = create_bank_account(actor=None, company=books, name="Main", account="1400", check_permission=False)
    post(books, [LineInput(account="1200", currency="USD", amount_currency="100.00", party=customer),
                 LineInput(account="4000", credit="90.00")], journal="SAL")
    paid_on = dt.date(2026, 3, 20)
    # The bank credits 95.00 EUR for the 100 USD; the receivable, booked at 90.00, is cleared
    # at its booked value and the rest is the realized gain.
    receipt = post(books, [
        LineInput(account="1400", debit="95.00"),
        LineInput(account="1200", currency="USD", amount_currency="-100.00", rate="0.9", party=customer),
        LineInput(account="7200", credit="5.00", label="Realized exchange gain"),
    ], journal="BNK", day=paid_on)

    assert posted_lines(receipt)[:2] == [("1400", "EUR", Decimal("95.00"), Decimal("95.00"), ZERO),
                                         ("1200", "USD", Decimal("-100.00"), ZERO, Decimal("90.00"))]
    # The item is closed in both currencies: nothing left to revalue on it.
    item = Line.objects.for_company(books).filter(account__code="1200", party=customer)
    assert sum((line.amount_currency for line in item), ZERO) == 0
    assert sum((line.debit - line.credit for line in item), ZERO) == 0
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 31), rate="1.2")
    assert preview_revaluation(company=books, period_end=dt.date(2026, 3, 31)).rows == []
    assert ledger_balance(bank, paid_on) == Decimal("95.00")
    assert verify_balances(books).ok


def test_pounds_bought_with_euros_in_a_dollar_company(db):
    company = set_up_books(CompanyFactory(code="usco", base_currency_id="USD"))
    euros = create_bank_account(actor=None, company=company, name="EUR account", account="1400", currency="EUR",
                                check_permission=False)
    pounds = create_bank_account(actor=None, company=company, name="GBP account", account="1410", currency="GBP",
                                 check_permission=False)
    # The bank's own conversion: both amounts given, each line's rate is what they imply.
    entry = post(company, [
        LineInput(account="1410", currency="GBP", amount_currency="850.00", debit="1079.50"),
        LineInput(account="1400", currency="EUR", amount_currency="-1000.00", credit="1080.00"),
        LineInput(account="7300", debit="0.50", label="Conversion cost"),
    ], journal="BNK")

    assert posted_lines(entry) == [
        ("1410", "GBP", Decimal("850.00"), Decimal("1079.50"), ZERO),
        ("1400", "EUR", Decimal("-1000.00"), ZERO, Decimal("1080.00")),
        ("7300", "USD", Decimal("0.50"), Decimal("0.50"), ZERO),
    ]
    assert entry.lines.get(account__code="1410").rate == Decimal("1.27")
    assert ledger_balance(pounds, DAY) == Decimal("850.00")
    assert ledger_balance(euros, DAY) == Decimal("-1000.00")
    assert verify_balances(company).ok


ROUNDING_LINES = [  # 3.33 + 3.33 against 6.67 once rounded; exactly 6.66666 on both sides
    LineInput(account="6100", currency="USD", amount_currency="10.01", rate="0.333"),
    LineInput(account="6200", currency="USD", amount_currency="10.01", rate="0.333"),
    LineInput(account="2110", currency="USD", amount_currency="-20.02", rate="0.333"),
]


def test_the_rounding_of_derived_foreign_lines_goes_on_the_largest_of_them(books):
    entry = post(books, ROUNDING_LINES)

    assert posted_lines(entry) == [
        ("6100", "USD", Decimal("10.01"), Decimal("3.33"), ZERO),
        ("6200", "USD", Decimal("10.01"), Decimal("3.33"), ZERO),
        ("2110", "USD", Decimal("-20.02"), ZERO, Decimal("6.66")),
    ]
    assert [line.rate for line in entry.lines.order_by("position")] == [Decimal("0.333")] * 3
    assert verify_balances(books).ok


def test_bulk_posting_and_drafts_absorb_the_rounding_as_posting_does(books):
    single = posted_lines(post(books, ROUNDING_LINES))
    result = post_entries_bulk(actor=None, company=books, entries=[EntryInput("GEN", DAY, ROUNDING_LINES)],
                               check_permission=False)
    assert posted_lines(Entry.objects.get(pk=result.ids[0])) == single
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=DAY, lines=ROUNDING_LINES,
                               check_permission=False)
    assert posted_lines(post_draft_entry(actor=None, entry=draft, check_permission=False)) == single


def test_the_rounding_goes_on_a_debit_when_the_largest_derived_line_is_one(books):
    entry = post(books, [
        LineInput(account="6100", currency="USD", amount_currency="20.02", rate="0.333"),
        LineInput(account="2110", currency="USD", amount_currency="-10.01", rate="0.333"),
        LineInput(account="2110", currency="USD", amount_currency="-10.01", rate="0.333"),
    ])
    assert [(line.debit, line.credit) for line in entry.lines.order_by("position")] == [
        (Decimal("6.66"), ZERO), (ZERO, Decimal("3.33")), (ZERO, Decimal("3.33"))]


def test_a_real_difference_is_not_taken_for_rounding(usd_rate):
    # 100 USD at 0.9 is exactly 90.00: a credit of 90.01 is a mistake, not rounding.
    error = refused(usd_rate, "entry.unbalanced", [
        LineInput(account="1200", party=party_for(usd_rate, "1200"), currency="USD", amount_currency="100.00"),
        LineInput(account="4000", credit="90.01"),
    ])
    assert "0.01" in error.message
    # Amounts the caller gave in the company's currency are never changed.
    refused(usd_rate, "entry.unbalanced", [
        LineInput(account="6100", currency="USD", amount_currency="10.01", debit="3.33"),
        LineInput(account="6200", currency="USD", amount_currency="10.01", debit="3.33"),
        LineInput(account="2110", currency="USD", amount_currency="-20.02", credit="6.67"),
    ])
    # Foreign amounts that balance at different rates do not balance in the company's currency.
    refused(usd_rate, "entry.unbalanced", [
        LineInput(account="6100", currency="USD", amount_currency="100.00", rate="0.9"),
        LineInput(account="2110", currency="USD", amount_currency="-100.00", rate="0.95"),
    ])


def test_foreign_amounts_need_not_balance_per_currency(usd_rate):
    """The per-currency rule belongs to an open item (settlement), not to the entry."""
    entry = post(usd_rate, [
        LineInput(account="1200", party=party_for(usd_rate, "1200"), currency="USD", amount_currency="10", debit="9", rate="0.9"),
        LineInput(account="4000", currency="USD", amount_currency="-11", credit="9", rate="0.9"),
    ])
    assert [line.amount_currency for line in entry.lines.order_by("position")] == [Decimal(10), Decimal(-11)]
    assert verify_balances(usd_rate).ok


# -- invariants --------------------------------------------------------------------------------

CURRENCIES = ["EUR", "USD", "GBP"]
ACCOUNTS = ["1210", "2110", "3000", "4000", "6100"]
cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
given_lines = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(CURRENCIES), st.booleans(), cents, cents),
                       min_size=1, max_size=6)


def _balanced(raw) -> list[LineInput]:
    """Lines with both amounts given (company and own currency), and a company-currency line
    that balances them."""
    lines, total = [], ZERO
    for account, currency, is_debit, base, foreign in raw:
        side = {"debit": base} if is_debit else {"credit": base}
        total += base if is_debit else -base
        if currency != "EUR":
            side.update(currency=currency, amount_currency=foreign if is_debit else -foreign)
        lines.append(LineInput(account=account, **side))
    if total or len(lines) < 2:
        lines.append(LineInput(account="3000", debit=-total) if total < 0 else
                     LineInput(account="3000", credit=total or Decimal("0.01")))
        if not total:
            lines.append(LineInput(account="3000", debit=Decimal("0.01")))
    return lines


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=given_lines)
def test_any_lines_that_balance_in_the_company_currency_post(books, raw):
    lines = _balanced(raw)
    entry = post(books, lines)
    rows = list(entry.lines.order_by("position"))
    assert sum((line.debit for line in rows), ZERO) == sum((line.credit for line in rows), ZERO)
    assert [(line.debit, line.credit) for line in rows] == [(Decimal(x.debit), Decimal(x.credit)) for x in lines]
    assert [line.currency_id for line in rows] == [x.currency or "EUR" for x in lines]
    bulk = post_entries_bulk(actor=None, company=books, entries=[EntryInput("GEN", DAY, lines)], check_permission=False)
    assert posted_lines(Entry.objects.get(pk=bulk.ids[0])) == posted_lines(entry)


derived_lines = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(["USD", "GBP"]), cents),
                         min_size=1, max_size=6)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99.9999"), places=4)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=derived_lines, rate=rates)
def test_derived_foreign_lines_that_balance_before_rounding_post_balanced(books, raw, rate):
    """Any foreign amounts that cancel at one rate post, whatever the rounding of each line:
    every posted entry balances in the company's currency and keeps its foreign amounts."""
    lines = [LineInput(account=account, currency=currency, amount_currency=amount, rate=rate)
             for account, currency, amount in raw]
    totals: dict[str, Decimal] = {}
    for _account, currency, amount in raw:  # one counter line per currency: its rounding differs
        totals[currency] = totals.get(currency, ZERO) + amount
    lines += [LineInput(account="3000", currency=currency, amount_currency=-total, rate=rate)
              for currency, total in sorted(totals.items())]
    if any(amount * rate < Decimal("0.005") for _account, _currency, amount in raw):
        return  # a line worth nothing in the company's currency is refused on its own (line.zero)
    entry = post(books, lines)
    rows = list(entry.lines.order_by("position"))
    assert sum((line.debit for line in rows), ZERO) == sum((line.credit for line in rows), ZERO)
    assert [line.amount_currency for line in rows] == [Decimal(x.amount_currency) for x in lines]
    for line in rows:  # each company amount is its foreign amount at the rate, give or take the rounding
        assert abs(abs(line.amount_currency) * rate - (line.debit + line.credit)) <= Decimal("0.01") * len(rows)
    bulk = post_entries_bulk(actor=None, company=books, entries=[EntryInput("GEN", DAY, lines)], check_permission=False)
    assert posted_lines(Entry.objects.get(pk=bulk.ids[0])) == posted_lines(entry)
    assert verify_balances(books).ok
