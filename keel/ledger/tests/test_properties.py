"""Invariants under any sequence of valid postings and reversals (hypothesis, derandomized)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.ledger.choices import EntryStatus
from keel.ledger.models import Entry
from keel.ledger.selectors import trial_balance
from keel.ledger.services import LineInput, post_entry, reverse_entry, verify_balances
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

ACCOUNTS = ["1200", "1400", "2100", "4000", "6100", "3000"]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2026, 12, 31))
postings = st.tuples(
    days,
    st.lists(st.tuples(st.sampled_from(ACCOUNTS), amounts), min_size=1, max_size=4),
    st.sampled_from(ACCOUNTS),
)
actions = st.lists(st.one_of(postings.map(lambda p: ("post", p)), st.integers(0, 50).map(lambda i: ("reverse", i))),
                   min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=actions, window=st.tuples(days, days))
def test_postings_and_reversals_keep_the_books_balanced_and_the_balances_true(books, actions, window):
    Entry.objects.for_company(books).count()  # each example starts where the last ended: still must hold
    for kind, value in actions:
        if kind == "post":
            day, debits, credit_account = value
            total = sum((amount for _, amount in debits), Decimal(0))
            lines = [LineInput(account=code, debit=amount, party=party_for(books, code)) for code, amount in debits]
            lines.append(LineInput(account=credit_account, credit=total, party=party_for(books, credit_account)))
            post_entry(actor=None, company=books, journal="GEN", date=day, lines=lines, check_permission=False)
        else:
            posted = list(Entry.objects.for_company(books).filter(status=EntryStatus.POSTED, reversal_of=None).order_by("id"))
            if posted:
                original = posted[value % len(posted)]
                reverse_entry(actor=None, entry=original, date=original.date, check_permission=False)
    date_from, date_to = sorted(window)
    report = trial_balance(books, date_from, date_to)
    assert report.is_balanced
    year = trial_balance(books, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert year.is_balanced and sum((row.closing for row in year.rows), Decimal(0)) == 0
    assert verify_balances(books).ok


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(entries=st.lists(postings, min_size=1, max_size=10), drafts=st.lists(postings, max_size=3),
       window=st.tuples(days, days))
def test_any_date_range_moves_as_the_posted_lines_inside_it(books, entries, drafts, window):
    """Whole months come from the period balances, the days of cut months from the day
    balances; either way the sums are those of the posted lines (drafts never count)."""
    from collections import defaultdict

    from keel.ledger.models import Line
    from keel.ledger.selectors import movements
    from keel.ledger.services import create_draft_entry

    def lines_of(debits, credit_account):
        total = sum((amount for _, amount in debits), Decimal(0))
        return [LineInput(account=code, debit=amount, party=party_for(books, code)) for code, amount in debits] + [
            LineInput(account=credit_account, credit=total, party=party_for(books, credit_account))]

    for day, debits, credit_account in entries:
        post_entry(actor=None, company=books, journal="GEN", date=day, lines=lines_of(debits, credit_account),
                   check_permission=False)
    for day, debits, credit_account in drafts:  # never counted
        create_draft_entry(actor=None, company=books, journal="GEN", date=day, lines=lines_of(debits, credit_account),
                           check_permission=False)
    date_from, date_to = sorted(window)
    expected = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in Line.objects.for_company(books).filter(entry__status=EntryStatus.POSTED, date__gte=date_from,
                                                        date__lte=date_to):
        expected[line.account_id][0] += line.debit
        expected[line.account_id][1] += line.credit
    got = {account: totals for account, totals in movements(books, date_from, date_to).items() if any(totals)}
    assert got == {account: totals for account, totals in expected.items() if any(totals)}


odd_amounts = st.one_of(
    st.just(Decimal(0)), amounts, st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("-5"), max_value=Decimal("5"), places=4),
    st.sampled_from([Decimal("1E+16"), Decimal("-0"), Decimal("9999999999999999.99"), Decimal("0.001")]),
)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(account=st.sampled_from([*ACCOUNTS, "1410", "1420", "9999", 10**9]), debit=odd_amounts, credit=odd_amounts,
       label=st.sampled_from(["", "x" * 200, "x" * 201]), warm=st.booleans())
def test_the_validators_fast_path_decides_as_the_full_checks_do(books, account, debit, credit, label, warm):
    """A plain company-currency line is checked by a shortcut; a dict takes the full checks.
    Both must accept the same lines (with the same result) and refuse the same ones, also on
    the ledger accounts of a bank account in the company's currency (1410) and in another (1420)."""
    from keel.core.exceptions import KeelError
    from keel.ledger.models import Account, Journal
    from keel.ledger.models.bank import BankAccount
    from keel.ledger.services.posting import _Validator

    if not BankAccount.objects.for_company(books).exists():  # each example starts where the last ended
        journal = Journal.objects.for_company(books).get(code="BNK")
        dollars = Account.objects.create(company=books, code="1420", name="USD bank", account_type="asset",
                                         role="bank")
        for code, currency, ledger_account in (("EUR", "EUR", Account.objects.for_company(books).get(code="1410")),
                                               ("USD", "USD", dollars)):
            BankAccount.objects.create(company=books, name=code, currency_id=currency, account=ledger_account,
                                       journal=journal)
    validator = _Validator(books)
    if warm:  # the shortcut only knows accounts met before (a receivable line without its party is refused)
        with contextlib.suppress(KeelError):
            validator.line(LineInput(account=account if account in ACCOUNTS else "1400", debit=Decimal(1)), 0,
                           dt.date(2026, 3, 1), None, True)
    outcomes = []
    for raw in (LineInput(account=account, debit=debit, credit=credit, label=label),
                {"account": account, "debit": debit, "credit": credit, "label": label}):
        try:
            outcomes.append(validator.line(raw, 0, dt.date(2026, 3, 1), None, True))
        except KeelError as exc:
            outcomes.append((exc.code, exc.message, exc.fields))
    assert outcomes[0] == outcomes[1]
