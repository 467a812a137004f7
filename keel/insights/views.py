"""The dashboard: every registered KPI for a date range, charted on the server."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from keel.core.access import has_permission
from keel.insights.charts import time_series_svg
from keel.insights.forms import DateRangeForm, TargetForm
from keel.insights.selectors import read_kpis
from keel.insights.services import set_target
from keel.web.decorators import company_page
from keel.web.forms import submit
from keel.web.views import safe_next

DOCUMENT = "insights.kpi_target"


def _dashboard(request, *, range_params, failed_target: TargetForm | None = None, status: int = 200):
    range_form = DateRangeForm(range_params)
    date_from, date_to = range_form.range()
    if not any(range_params.get(name) for name in ("date_from", "date_to")):
        range_form = DateRangeForm({"date_from": date_from, "date_to": date_to})  # show the default range
    can_manage = has_permission(request.user, request.company, "kpi.manage")
    cards = []
    for reading in read_kpis(request.company, date_from, date_to):
        code = reading.kpi.code
        if failed_target is not None and failed_target.data.get("kpi_code") == code:
            target_form = failed_target
        else:
            target_form = TargetForm(initial={"kpi_code": code, "target": reading.target}, prefix=None)
        cards.append({
            "reading": reading,
            "chart": time_series_svg(reading.series, title=reading.kpi.name, unit=reading.kpi.unit, target=reading.target),
            "target_form": target_form if can_manage else None,
        })
    shown = any(card["target_form"] is failed_target for card in cards)
    return render(request, "insights/dashboard.html", {
        "range_form": range_form, "date_from": date_from, "date_to": date_to, "cards": cards,
        "can_manage": can_manage,
        # A target for a KPI that is not on the page (an unknown code): its errors go on top.
        "target_errors": [] if failed_target is None or shown else
        [e for errors in failed_target.errors.values() for e in errors],
    }, status=status)


@company_page("kpi.view", methods=["GET"])
def dashboard(request):
    return _dashboard(request, range_params=request.GET)


@company_page(None, methods=["GET"])
def home(request):
    """Where login leads: the dashboard, or "My tasks" for a role that may not see KPIs."""
    if not has_permission(request.user, request.company, "kpi.view"):
        return redirect("inbox:task_inbox")
    return dashboard(request)


@company_page("kpi.manage", methods=["POST"])
def kpitarget_set(request):
    form = TargetForm(request.POST)
    outcome = submit(form, company=request.company, document_type=DOCUMENT,
                     call=lambda data: set_target(actor=request.user, company=request.company,
                                                  kpi_code=data["kpi_code"], target=data["target"]))
    if outcome.ok:
        messages.success(request, f"Target for {outcome.result.kpi_code} set to {outcome.result.target.normalize():f}.")
        return redirect(safe_next(request, reverse("web:dashboard")))
    return _dashboard(request, range_params={}, failed_target=form, status=400)
