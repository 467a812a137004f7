"""Companies: mine, one's settings, editing them, creating one (Keel administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from keel.core.access import get_company_for, has_permission, memberships
from keel.core.forms import CompanyCreateForm, CompanyEditForm
from keel.core.middleware import SESSION_KEY
from keel.core.services.companies import create_company, update_company
from keel.web.decorators import user_page
from keel.web.forms import submit

DOCUMENT = "core.company"
_SETTINGS = ("legal_name", "country", "base_currency", "fiscal_year_start_month", "registration_number",
             "tax_id", "street", "postal_code", "city", "region")


@user_page(methods=["GET"])
def company_list(request):
    rows = list(memberships(request.user).values())
    return render(request, "core/company_list.html", {"memberships": rows})


@user_page(methods=["GET"])
def company_detail(request, pk: int):
    company = get_company_for(request.user, pk, "company.view")
    return render(request, "core/company_detail.html", {
        "company": company,
        "membership": memberships(request.user)[company.pk],
        "can_manage": has_permission(request.user, company, "company.manage"),
    })


@user_page(methods=["GET"])
def company_logo(request, pk: int):
    company = get_company_for(request.user, pk, "company.view")
    if not company.logo:
        raise Http404("No logo.")
    try:
        return FileResponse(company.logo.open("rb"))
    except OSError:
        raise Http404("The logo file is missing.")


@user_page()
def company_edit(request, pk: int):
    company = get_company_for(request.user, pk, "company.manage")
    initial = {name: getattr(company, name) for name in _SETTINGS}
    initial["base_currency"] = company.base_currency_id
    form = CompanyEditForm(initial=initial)
    if request.method == "POST":
        form = CompanyEditForm(request.POST, request.FILES, initial=initial)

        def call(data):
            changes = {name: data[name] for name in _SETTINGS}
            if data.get("logo"):
                changes["logo"] = data["logo"]
            return update_company(actor=request.user, company=company, **changes)

        outcome = submit(form, company=company, document_type=DOCUMENT, call=call)
        if outcome.ok:
            messages.success(request, "Settings saved.")
            return redirect("core:company_detail", pk=company.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Settings of {company.legal_name}", "submit_label": "Save settings",
        "cancel_url": company_detail_url(company), "multipart": True,
    })


@user_page()
def company_create(request):
    if not (request.user.is_staff or request.user.is_superuser):
        raise PermissionDenied("Only Keel administrators (staff) can create companies.")
    form = CompanyCreateForm(initial={"base_currency": "EUR"})
    if request.method == "POST":
        form = CompanyCreateForm(request.POST)
        outcome = submit(
            form, company=request.company, document_type=DOCUMENT,
            call=lambda data: create_company(actor=request.user, **data),
        )
        if outcome.ok:
            request.session[SESSION_KEY] = outcome.result.pk
            messages.success(request, f"{outcome.result.legal_name} is set up; you are its owner.")
            return redirect("core:company_detail", pk=outcome.result.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": "New company", "submit_label": "Create company",
        "cancel_url": reverse("core:company_list"),
    })


def company_detail_url(company) -> str:
    return reverse("core:company_detail", kwargs={"pk": company.pk})
