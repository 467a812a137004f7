"""Parties: the list (search, filters, pages of 50), a party's page, create, edit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from keel.core.access import get_visible, has_permission
from keel.core.forms import (
    AddressForm,
    ContactPointForm,
    PartyCreateForm,
    PartyEditForm,
    PartyFilterForm,
)
from keel.core.models import Party
from keel.core.party_panels import panels_for
from keel.core.selectors import search_parties
from keel.core.services.parties import add_address, add_contact_point, create_party, update_party
from keel.web.decorators import company_page
from keel.web.forms import submit
from keel.web.pagination import page_of

DOCUMENT = "core.party"
_FIELDS = ("name", "kind", "tax_id", "tax_country", "email", "phone", "website", "notes")


def filtered_parties(company, params) -> tuple[PartyFilterForm, object]:
    form = PartyFilterForm(params)
    data = form.cleaned_data if form.is_valid() else {}
    parties = search_parties(company, data.get("q") or "")
    if data.get("role"):
        parties = parties.filter(roles__role=data["role"])
    if data.get("kind"):
        parties = parties.filter(kind=data["kind"])
    active = data.get("active") or "yes"
    if active != "all":
        parties = parties.filter(is_active=active == "yes")
    return form, parties.prefetch_related("roles").order_by("name", "id")


@company_page("party.view", methods=["GET"])
def party_list(request):
    form, parties = filtered_parties(request.company, request.GET)
    context = {
        "filter_form": form, "page_obj": page_of(parties, request),
        "can_manage": has_permission(request.user, request.company, "party.manage"),
    }
    if request.htmx and request.htmx.target == "party-results":
        return render(request, "core/partials/party_results.html", context)
    return render(request, "core/party_list.html", context)


def _party(request, pk: int, permission: str) -> Party:
    return get_visible(Party.objects.select_related("company"), request.user, permission, company=request.company, pk=pk)


@company_page("party.view", methods=["GET"])
def party_detail(request, pk: int):
    party = get_visible(
        Party.objects.select_related("company").prefetch_related("roles", "addresses", "contact_points"),
        request.user, "party.view", company=request.company, pk=pk,
    )
    # Departments show their part of the party (tasks, accounts, ...) through registered panels.
    return render(request, "core/party_detail.html", {
        "party": party, "panels": panels_for(request, party),
        "can_manage": has_permission(request.user, request.company, "party.manage"),
    })


@company_page("party.manage")
def party_create(request):
    form = PartyCreateForm()
    duplicates = []
    if request.method == "POST":
        form = PartyCreateForm(request.POST)
        outcome = submit(
            form, company=request.company, document_type=DOCUMENT,
            call=lambda data: create_party(
                actor=request.user, company=request.company, roles=data["roles"],
                allow_duplicate=data["allow_duplicate"], **{name: data[name] for name in _FIELDS},
            ),
        )
        if outcome.ok:
            messages.success(request, f"{outcome.result.name} was created.")
            return redirect("core:party_detail", pk=outcome.result.pk)
        if outcome.error is not None and outcome.error.code == "party.possible_duplicate":
            duplicates = outcome.error.extra.get("duplicates", [])
    if not duplicates:
        # "Create anyway" only makes sense next to the parties it would duplicate.
        form.fields["allow_duplicate"].widget = forms.HiddenInput()
    return render(request, "core/party_form.html", {
        "form": form, "duplicates": duplicates, "title": "New party", "submit_label": "Create party",
        "cancel_url": reverse("core:party_list"),
    })


@company_page("party.manage")
def party_edit(request, pk: int):
    party = _party(request, pk, "party.manage")
    initial = {name: getattr(party, name) for name in _FIELDS}
    initial.update(roles=party.role_codes, is_active=party.is_active)
    form = PartyEditForm(initial=initial)
    if request.method == "POST":
        form = PartyEditForm(request.POST, initial=initial)
        outcome = submit(
            form, company=request.company, document_type=DOCUMENT,
            call=lambda data: update_party(
                actor=request.user, party=party, roles=data["roles"], is_active=data["is_active"],
                **{name: data[name] for name in _FIELDS},
            ),
        )
        if outcome.ok:
            messages.success(request, f"{outcome.result.name} was saved.")
            return redirect("core:party_detail", pk=party.pk)
    return render(request, "core/party_form.html", {
        "form": form, "party": party, "title": f"Edit {party.name}", "submit_label": "Save",
        "cancel_url": reverse("core:party_detail", kwargs={"pk": party.pk}),
    })


@company_page("party.manage")
def address_create(request, pk: int):
    party = _party(request, pk, "party.manage")
    form = AddressForm(initial={"country": request.company.country})
    if request.method == "POST":
        form = AddressForm(request.POST)
        outcome = submit(form, company=request.company, document_type="core.address",
                         call=lambda data: add_address(actor=request.user, party=party, **data))
        if outcome.ok:
            messages.success(request, "Address added.")
            return redirect("core:party_detail", pk=party.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Add an address to {party.name}", "submit_label": "Add address",
        "cancel_url": reverse("core:party_detail", kwargs={"pk": party.pk}),
    })


@company_page("party.manage")
def contactpoint_create(request, pk: int):
    party = _party(request, pk, "party.manage")
    form = ContactPointForm()
    if request.method == "POST":
        form = ContactPointForm(request.POST)
        outcome = submit(form, company=request.company, document_type="core.contact_point",
                         call=lambda data: add_contact_point(actor=request.user, party=party, **data))
        if outcome.ok:
            messages.success(request, "Contact point added.")
            return redirect("core:party_detail", pk=party.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Add a contact point to {party.name}", "submit_label": "Add contact point",
        "cancel_url": reverse("core:party_detail", kwargs={"pk": party.pk}),
    })
