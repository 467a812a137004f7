"""Exchange rates of the active company."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from keel.core.access import has_permission
from keel.core.forms import ExchangeRateFilterForm, ExchangeRateForm
from keel.core.models import ExchangeRate
from keel.core.services.currencies import set_rate
from keel.web.decorators import company_page
from keel.web.forms import submit
from keel.web.pagination import page_of

DOCUMENT = "core.exchange_rate"


@company_page("currency.view", methods=["GET"])
def exchangerate_list(request):
    form = ExchangeRateFilterForm(request.GET)
    rates = ExchangeRate.objects.for_company(request.company).order_by("-date", "currency_id")
    if form.is_valid() and form.cleaned_data["currency"]:
        rates = rates.filter(currency_id=form.cleaned_data["currency"].strip().upper())
    return render(request, "core/exchangerate_list.html", {
        "filter_form": form, "page_obj": page_of(rates, request),
        "can_manage": has_permission(request.user, request.company, "currency.manage"),
    })


@company_page("currency.manage")
def exchangerate_create(request):
    company = request.company
    form = ExchangeRateForm(base_currency=company.base_currency_id, initial={"date": timezone.localdate(), "source": "manual"})
    if request.method == "POST":
        form = ExchangeRateForm(request.POST, base_currency=company.base_currency_id)
        outcome = submit(
            form, company=company, document_type=DOCUMENT,
            call=lambda data: set_rate(actor=request.user, company=company, currency=data["currency"],
                                       on_date=data["date"], rate=data["rate"], source=data["source"] or "manual"),
        )
        if outcome.ok:
            rate = outcome.result
            messages.success(request, f"1 {rate.currency_id} = {rate.rate.normalize():f} {company.base_currency_id} on {rate.date}.")
            return redirect("core:exchangerate_list")
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Enter an exchange rate (base currency {company.base_currency_id})",
        "submit_label": "Save rate", "cancel_url": reverse("core:exchangerate_list"),
    })
