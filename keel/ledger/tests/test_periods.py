"""Fiscal years, periods, closing, reopening, locking; the ledger command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from keel.core.exceptions import IllegalTransition, PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.ledger.choices import PeriodStatus
from keel.ledger.models import Balance, Entry, FiscalYear, Period
from keel.ledger.services import (
    close_period,
    get_period,
    lock_period,
    open_fiscal_year,
    reopen_period,
)
from keel.ledger.tests.factories import DAY, post_sale

pytestmark = pytest.mark.django_db


def test_a_fiscal_year_has_twelve_monthly_periods_from_the_company_start_month(company, owner):
    company.fiscal_year_start_month = 4
    company.save()
    year = open_fiscal_year(actor=owner, company=company, fiscal_year=2026)
    periods = list(year.periods.order_by("start"))
    assert (year.start, year.end) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert [p.name for p in periods][:2] == ["2026-04", "2026-05"] and len(periods) == 12
    assert periods[-1].end == dt.date(2027, 3, 31) and periods[10].end == dt.date(2027, 2, 28)
    assert open_fiscal_year(actor=owner, company=company, fiscal_year=2026) == year  # idempotent
    assert FiscalYear.objects.for_company(company).count() == 1


def test_a_closed_period_refuses_postings_until_reopened_with_a_reason(books, owner):
    period = get_period(company=books, name="2026-03")
    close_period(actor=owner, period=period)
    entries = Entry.objects.for_company(books).count()
    with pytest.raises(ValidationFailed) as exc:
        post_sale(books, owner)
    assert exc.value.code == "period.closed" and Entry.objects.for_company(books).count() == entries

    with pytest.raises(ValidationFailed) as exc:
        reopen_period(actor=owner, period=period, reason=" ")
    assert exc.value.code == "period.reason_required"
    reopen_period(actor=owner, period=period, reason="Late supplier bill")
    assert post_sale(books, owner).period == period
    activity = Activity.objects.filter(company=books, verb="ledger.period_reopened").get()
    assert activity.data["reason"] == "Late supplier bill"


def test_a_locked_period_is_never_reopened(books, owner):
    period = get_period(company=books, name="2026-03")
    with pytest.raises(IllegalTransition):
        lock_period(actor=owner, period=period)  # close first
    close_period(actor=owner, period=period)
    lock_period(actor=owner, period=period)
    with pytest.raises(IllegalTransition):
        reopen_period(actor=owner, period=period, reason="please")
    period.refresh_from_db()
    assert period.status == PeriodStatus.LOCKED
    with pytest.raises(ValidationFailed) as exc:
        post_sale(books, owner)
    assert exc.value.code == "period.locked"


def test_closing_needs_the_ledger_close_permission(books, clerk):
    period = get_period(company=books, name="2026-03")
    with pytest.raises(PermissionDenied):
        close_period(actor=clerk, period=period)
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


def test_the_command_closes_a_period(books, capsys):
    call_command("ledger", "close-period", "--company", "acme", "--period", "2026-03")
    assert Period.objects.for_company(books).get(start=dt.date(2026, 3, 1)).status == PeriodStatus.CLOSED
    assert "closed" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("ledger", "close-period", "--company", "acme", "--period", "2031-01")


def test_verify_reports_a_tampered_balance_and_exits_non_zero(books, capsys):
    post_sale(books, day=DAY)
    call_command("ledger", "verify", "--company", "acme")
    assert "agree" in capsys.readouterr().out
    Balance.objects.for_company(books).filter(account__code="4000").update(credit=Decimal("99"))
    with pytest.raises(CommandError) as exc:
        call_command("ledger", "verify", "--company", "acme")
    assert exc.value.returncode == 1
    assert "differ" in capsys.readouterr().out


def test_verify_reports_a_tampered_day_balance(books, capsys):
    from keel.ledger.models import DayBalance

    post_sale(books, amount="120.00", day=DAY)
    day = DayBalance.objects.for_company(books).get(account__code="4000", date=DAY)
    assert (day.debit, day.credit, day.line_count) == (0, Decimal("120.00"), 1)
    DayBalance.objects.filter(pk=day.pk).update(credit=Decimal("99"))
    with pytest.raises(CommandError):
        call_command("ledger", "verify", "--company", "acme")
    out = capsys.readouterr().out
    assert f"on {DAY}: stored D0" in out and "C99" in out and "lines say" in out
