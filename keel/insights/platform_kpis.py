"""The platform's own KPIs: how much each department does, and how often input is refused."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from keel.core.models import Activity, Company, SubmissionCount
from keel.insights.registry import KPI, register


def _day_bounds(company: Company, date_from: dt.date, date_to: dt.date):
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _activities(company: Company, date_from: dt.date, date_to: dt.date):
    start, end = _day_bounds(company, date_from, date_to)
    return Activity.objects.for_company(company).filter(occurred_at__gte=start, occurred_at__lt=end)


def activity_volume(company: Company, date_from: dt.date, date_to: dt.date) -> Decimal:
    return Decimal(_activities(company, date_from, date_to).count())


def activity_volume_series(company: Company, date_from: dt.date, date_to: dt.date):
    counts = dict(
        _activities(company, date_from, date_to)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    days = (date_to - date_from).days + 1
    return [(date_from + dt.timedelta(d), Decimal(counts.get(date_from + dt.timedelta(d), 0))) for d in range(days)]


def activity_volume_by_department(company: Company, date_from: dt.date, date_to: dt.date):
    rows = (
        _activities(company, date_from, date_to).values("department").annotate(n=Count("id")).order_by("-n", "department")
    )
    return [(row["department"], Decimal(row["n"])) for row in rows]


def _rate(rejected: int | None, submitted: int | None) -> Decimal | None:
    if not submitted:
        return None
    return (Decimal(rejected or 0) * 100 / Decimal(submitted)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _submissions(company: Company, date_from: dt.date, date_to: dt.date):
    return SubmissionCount.objects.for_company(company).filter(day__gte=date_from, day__lte=date_to)


def error_rate(company: Company, date_from: dt.date, date_to: dt.date) -> Decimal | None:
    totals = _submissions(company, date_from, date_to).aggregate(s=Sum("submitted"), r=Sum("rejected"))
    return _rate(totals["r"], totals["s"])


def error_rate_series(company: Company, date_from: dt.date, date_to: dt.date):
    rows = {
        row["day"]: _rate(row["r"], row["s"])
        for row in _submissions(company, date_from, date_to).values("day").annotate(s=Sum("submitted"), r=Sum("rejected"))
    }
    days = (date_to - date_from).days + 1
    return [(date_from + dt.timedelta(d), rows.get(date_from + dt.timedelta(d))) for d in range(days)]


def error_rate_by_document(company: Company, date_from: dt.date, date_to: dt.date):
    rows = (
        _submissions(company, date_from, date_to)
        .values("document_type")
        .annotate(s=Sum("submitted"), r=Sum("rejected"))
        .order_by("document_type")
    )
    return [(row["document_type"], _rate(row["r"], row["s"])) for row in rows]


ACTIVITY_VOLUME = register(
    KPI(
        code="core.activity_volume",
        name="Activity volume",
        unit="activities",
        description="Changes of state recorded, per day; broken down by department.",
        department="core",
        compute=activity_volume,
        series=activity_volume_series,
        breakdown=activity_volume_by_department,
    )
)

DATA_ENTRY_ERROR_RATE = register(
    KPI(
        code="core.data_entry_error_rate",
        name="Data-entry error rate",
        unit="%",
        description="Share of submitted documents (forms and API writes) refused by validation; per document type.",
        department="core",
        compute=error_rate,
        series=error_rate_series,
        breakdown=error_rate_by_document,
        higher_is_better=False,
    )
)
