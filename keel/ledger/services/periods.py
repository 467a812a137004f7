"""Fiscal years and their monthly periods; closing, reopening and locking periods."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from keel.core.activity import record
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company
from keel.core.transitions import apply_transition
from keel.ledger.choices import PeriodStatus
from keel.ledger.events import FISCAL_YEAR_OPENED, PERIOD_CLOSED, PERIOD_LOCKED, PERIOD_REOPENED
from keel.ledger.models import FiscalYear, Period
from keel.ledger.services._common import require
from keel.ledger.transitions import PERIOD_TRANSITIONS


def month_bounds(start: dt.date) -> tuple[dt.date, dt.date]:
    following = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, following - dt.timedelta(days=1)


def ensure_fiscal_year(*, company: Company, fiscal_year: int, actor=None) -> FiscalYear:
    """The fiscal year and its twelve monthly periods, created (open) if missing. Idempotent."""
    existing = FiscalYear.objects.for_company(company).filter(year=fiscal_year).first()
    if existing is not None:
        return existing
    start, end = company.fiscal_year_bounds(fiscal_year)
    try:
        with transaction.atomic():
            year = FiscalYear.objects.create(company=company, year=fiscal_year, start=start, end=end)
            periods, month = [], start
            while month <= end:
                first, last = month_bounds(month)
                periods.append(Period(company=company, fiscal_year=year, start=first, end=last))
                month = last + dt.timedelta(days=1)
            Period.objects.bulk_create(periods)
            record(company=company, actor=actor, verb=FISCAL_YEAR_OPENED.name, subject=year,
                   data={"year": fiscal_year, "start": start, "end": end})
    except IntegrityError:  # created concurrently
        return FiscalYear.objects.for_company(company).get(year=fiscal_year)
    return year


def open_fiscal_year(*, actor, company: Company, fiscal_year: int, check_permission: bool = True) -> FiscalYear:
    """Create a fiscal year's periods so that postings dated in it are accepted."""
    require(actor, company, "ledger.manage", check_permission=check_permission)
    if not 1900 <= fiscal_year <= 2999:
        raise ValidationFailed(f"{fiscal_year} is not a plausible fiscal year.", code="fiscal_year.invalid", field="fiscal_year")
    return ensure_fiscal_year(company=company, fiscal_year=fiscal_year, actor=actor)


def get_period(*, company: Company, name: str) -> Period:
    """A period by its month, 'YYYY-MM'."""
    try:
        start = dt.datetime.strptime(name.strip(), "%Y-%m").date()  # noqa: DTZ007 - a date, no time
    except (ValueError, AttributeError):
        raise ValidationFailed(f"'{name}' is not a month (YYYY-MM).", code="period.invalid", field="period")
    period = Period.objects.for_company(company).filter(start=start).first()
    if period is None:
        raise NotFound(f"{company.code} has no period {name}; open its fiscal year first.", code="period.not_found", field="period")
    return period


REOPEN_PERMISSION = "books.reopen"  # outside `ledger.*` on purpose (see LedgerConfig.ready)


def _move(*, actor, period: Period, to: str, verb: str, check_permission: bool, reason: str = "",
          permission: str = "ledger.close") -> Period:
    require(actor, period.company_id, permission, check_permission=check_permission)
    with transaction.atomic():
        if to == PeriodStatus.OPEN:
            # The year row is held until commit, so a reopen and a year-end close (which takes
            # it FOR UPDATE) cannot cross: a reopen that waited finds the year closed. Postings
            # into a closed year would be missing from its closing entry.
            year = FiscalYear.objects.select_for_update().get(pk=period.fiscal_year_id)
            if year.status != PeriodStatus.OPEN:
                raise ValidationFailed(
                    f"Fiscal year FY{year.year} is {year.status}: its periods cannot be reopened. "
                    "Reopen the fiscal year first (owners and administrators, with a reason).",
                    code="period.year_closed", field="period",
                )
        before = period.status
        apply_transition(period, transitions=PERIOD_TRANSITIONS, to=to, code="period.illegal_transition")
        data = {"period": period.name, "from": before, "to": to}
        if reason:
            data["reason"] = reason
        record(company=period.company, actor=actor, verb=verb, subject=period, data=data)
    return period


def close_period(*, actor, period: Period, check_permission: bool = True) -> Period:
    """Close a period: it refuses postings until someone with books.reopen reopens it."""
    return _move(actor=actor, period=period, to=PeriodStatus.CLOSED, verb=PERIOD_CLOSED.name,
                 check_permission=check_permission)


def reopen_period(*, actor, period: Period, reason: str, check_permission: bool = True) -> Period:
    """Reopen a closed period (owners and administrators: books.reopen); the reason is kept
    in the activity. Locked periods never reopen, nor periods of a closed fiscal year."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the period is reopened.", code="period.reason_required", field="reason")
    return _move(actor=actor, period=period, to=PeriodStatus.OPEN, verb=PERIOD_REOPENED.name,
                 check_permission=check_permission, reason=reason[:500], permission=REOPEN_PERMISSION)


def lock_period(*, actor, period: Period, check_permission: bool = True) -> Period:
    """Lock a closed period for good (after the tax return or the audit)."""
    return _move(actor=actor, period=period, to=PeriodStatus.LOCKED, verb=PERIOD_LOCKED.name,
                 check_permission=check_permission)
