"""Event deliveries that failed or wait for a retry, and the administrator's 'retry now'."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from keel.core import events
from keel.core.access import get_visible, has_permission
from keel.core.choices import DeliveryStatus
from keel.core.forms import DeliveryFilterForm
from keel.core.models import EventDelivery
from keel.web.decorators import company_page
from keel.web.pagination import keyset_page

PROBLEMS = [DeliveryStatus.FAILED, DeliveryStatus.RETRYING]


@company_page("event.view", methods=["GET"])
def eventdelivery_list(request):
    form = DeliveryFilterForm(request.GET)
    status = (form.cleaned_data.get("status") if form.is_valid() else "") or "problems"
    deliveries = EventDelivery.objects.for_company(request.company).select_related("activity")
    deliveries = deliveries.filter(status__in=PROBLEMS) if status == "problems" else deliveries.filter(status=status)
    page = keyset_page(deliveries, request.GET.get("before"), key="id")
    return render(request, "core/eventdelivery_list.html", {
        "filter_form": form, "page": page, "status": status,
        "can_manage": has_permission(request.user, request.company, "event.manage"),
    })


@company_page("event.manage", methods=["POST"])
def eventdelivery_retry(request, pk: int):
    delivery = get_visible(EventDelivery.objects.all(), request.user, "event.manage", company=request.company, pk=pk)
    if delivery.status == DeliveryStatus.DONE:
        messages.info(request, "That delivery has already succeeded.")
    elif events.retry(delivery.pk):
        messages.success(request, f"{delivery.handler} ran successfully on {delivery.event}.")
    else:
        messages.error(request, f"{delivery.handler} failed again; see the error below.")
    return redirect("core:eventdelivery_list")
