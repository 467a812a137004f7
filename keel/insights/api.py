"""KPIs over HTTP: current values with targets, one KPI's daily series, setting a target."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate_items
from keel.core.exceptions import NotFound, ValidationFailed
from keel.insights import services
from keel.insights.registry import KPI, all_kpis, get_kpi
from keel.insights.schemas import KpiOut, KpiRange, KpiSeriesOut, KpiTargetIn, KpiTargetOut
from keel.insights.selectors import read_kpis

router = Router()

MAX_DAYS = 366
KpiCode = Annotated[str, Path(min_length=1, max_length=100)]


def _range(period: KpiRange) -> tuple[dt.date, dt.date]:
    date_to = period.date_to or timezone.localdate()
    date_from = period.date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to:
        raise ValidationFailed("date_from is after date_to.", code="kpi.invalid_range", field="date_from")
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationFailed(f"A range covers at most {MAX_DAYS} days.", code="kpi.invalid_range", field="date_from")
    return date_from, date_to


def _kpi(code: str) -> KPI:
    kpi = get_kpi(code)
    if kpi is None:
        raise NotFound(f"No KPI '{code}'.", code="kpi.not_found")
    return kpi


@router.get("", response=Page[KpiOut], url_name="kpi_list")
def list_kpis(request: HttpRequest, company_ref: CompanyRef, period: Query[KpiRange], page: Query[PageQuery]):
    """Every KPI with its value over the range and the company's target, by code."""
    company = company_for(request, company_ref, "kpi.view")
    date_from, date_to = _range(period)
    result = paginate_items(all_kpis(), page, key=lambda kpi: kpi.code)
    codes = [kpi.code for kpi in result["items"]]
    readings = read_kpis(company, date_from, date_to, codes=codes, with_series=False) if codes else []
    result["items"] = [
        {
            "code": r.kpi.code, "name": r.kpi.name, "unit": r.kpi.unit, "description": r.kpi.description,
            "department": r.kpi.department, "higher_is_better": r.kpi.higher_is_better, "value": r.value,
            "target": r.target, "on_target": r.on_target,
        }
        for r in sorted(readings, key=lambda r: r.kpi.code)
    ]
    return result


@router.get("/{code}/series", response=KpiSeriesOut, url_name="kpi_series")
def kpi_series(request: HttpRequest, company_ref: CompanyRef, code: KpiCode, period: Query[KpiRange]):
    """One KPI's daily values over the range, and its breakdown."""
    company = company_for(request, company_ref, "kpi.view")
    kpi = _kpi(code)
    date_from, date_to = _range(period)
    return {
        "code": kpi.code, "name": kpi.name, "unit": kpi.unit, "date_from": date_from, "date_to": date_to,
        "points": [{"date": day, "value": value} for day, value in kpi.daily_series(company, date_from, date_to)],
        "breakdown": [
            {"label": label, "value": value}
            for label, value in (kpi.breakdown(company, date_from, date_to) if kpi.breakdown else [])
        ],
    }


@router.put("/{code}/target", response=KpiTargetOut, url_name="kpi_target_set")
def set_kpi_target(request: HttpRequest, company_ref: CompanyRef, code: KpiCode, payload: KpiTargetIn):
    company = company_for(request, company_ref, "kpi.view")
    with track(request, company):
        return services.set_target(actor=actor(request), company=company, kpi_code=code, target=payload.target)
