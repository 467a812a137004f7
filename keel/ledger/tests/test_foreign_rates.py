"""Which rate a foreign-currency line carries: the day's from the rate table, the caller's own,
or the one its two amounts imply; a draft's table rate follows a change of its date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import ValidationFailed
from keel.core.services.currencies import set_rate
from keel.ledger.models import Entry, Line
from keel.ledger.services.posting import (
    LineInput,
    create_draft_entry,
    post_draft_entry,
    post_entry,
    update_draft_entry,
)

pytestmark = pytest.mark.django_db

D = Decimal
MAR_2, MAR_20, MAR_25 = dt.date(2026, 3, 2), dt.date(2026, 3, 20), dt.date(2026, 3, 25)


@pytest.fixture
def rates(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 1), rate="0.9")
    set_rate(actor=owner, company=books, currency="USD", on_date=MAR_20, rate="1.2")
    return books


def _usd(amount="100.00", **extra):
    return [LineInput(account="1210", currency="USD", amount_currency=D(amount), **extra),
            LineInput(account="4000", currency="USD", amount_currency=-D(amount), **extra)]


def _receivable(entry) -> tuple[Decimal, Decimal]:
    line = Line.objects.get(entry=entry, account__code="1210")
    return line.rate, line.debit


def test_a_line_takes_the_rate_of_its_date(rates):
    early = post_entry(actor=None, company=rates, journal="SAL", date=MAR_2, lines=_usd(), check_permission=False)
    late = post_entry(actor=None, company=rates, journal="SAL", date=MAR_25, lines=_usd(), check_permission=False)
    assert _receivable(early) == (D("0.9"), D("90.00")) and _receivable(late) == (D("1.2"), D("120.00"))


def test_a_line_with_both_amounts_carries_the_rate_they_imply(rates):
    entry = post_entry(actor=None, company=rates, journal="SAL", date=MAR_2, check_permission=False, lines=[
        LineInput(account="1210", currency="USD", amount_currency=D("100.00"), debit=D("500.00")),
        LineInput(account="4000", currency="USD", amount_currency=D("-100.00"), credit=D("500.00"))])
    assert _receivable(entry) == (D("5"), D("500.00"))


def test_amounts_implying_an_impossible_rate_are_refused_and_nothing_is_written(rates):
    with pytest.raises(ValidationFailed) as refused:
        post_entry(actor=None, company=rates, journal="SAL", date=MAR_2, check_permission=False, lines=[
            LineInput(account="1210", currency="USD", amount_currency=D("0.01"), debit=D("99999999999.00")),
            LineInput(account="4000", currency="USD", amount_currency=D("-0.01"), credit=D("99999999999.00"))])
    assert (refused.value.code, list(refused.value.fields)) == ("rate.invalid", ["lines[0].rate"])
    assert not Entry.objects.filter(company=rates).exists()


def test_a_draft_moved_to_another_date_takes_that_dates_rate(rates):
    draft = create_draft_entry(actor=None, company=rates, journal="SAL", date=MAR_2, lines=_usd(), check_permission=False)
    assert _receivable(draft) == (D("0.9"), D("90.00"))
    moved = update_draft_entry(actor=None, entry=draft, date=MAR_25, check_permission=False)
    assert _receivable(moved) == (D("1.2"), D("120.00"))
    posted = post_draft_entry(actor=None, entry=moved, check_permission=False)
    assert posted.status == "posted" and _receivable(posted) == (D("1.2"), D("120.00"))


def test_a_draft_keeps_a_rate_of_its_own_when_its_date_moves(rates):
    draft = create_draft_entry(actor=None, company=rates, journal="SAL", date=MAR_2, lines=_usd(rate=D("1.05")),
                               check_permission=False)
    moved = update_draft_entry(actor=None, entry=draft, date=MAR_25, check_permission=False)
    assert _receivable(moved) == (D("1.05"), D("105.00"))
