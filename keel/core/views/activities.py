"""The company's activity log: filters and key-set pages, never a count of the whole table."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils import timezone

from keel.core.forms import ActivityFilterForm
from keel.core.models import Activity
from keel.web.decorators import company_page
from keel.web.pagination import keyset_page


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


@company_page("activity.view", methods=["GET"])
def activity_list(request):
    form = ActivityFilterForm(request.GET, company=request.company)
    activities = Activity.objects.for_company(request.company).select_related("actor")
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            activities = activities.filter(actor_id=data["actor"])
        if data["verb"]:
            activities = activities.filter(verb=data["verb"].strip())
        if data["subject_type"]:
            activities = activities.filter(subject_type=data["subject_type"].strip().lower())
        if data["date_from"]:
            activities = activities.filter(occurred_at__gte=_start_of(data["date_from"]))
        if data["date_to"]:
            activities = activities.filter(occurred_at__lt=_start_of(data["date_to"] + dt.timedelta(days=1)))
    else:
        activities = activities.none()
    page = keyset_page(activities, request.GET.get("before"))
    return render(request, "core/activity_list.html", {"filter_form": form, "page": page})
