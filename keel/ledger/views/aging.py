"""The ledger pages: aging of receivables and payables (with drill-down to a party's open
items and CSV/XLSX/PDF export) and a party's statement PDF. Thin: reports/aging.py reads."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from keel.core.access import get_visible
from keel.core.models import Party
from keel.ledger.aging_exports import aging_table, render_table, statement_table
from keel.ledger.reports.aging import BUCKET_KEYS, BUCKET_LABELS, KINDS, get_aging, party_open_lines
from keel.ledger.views.reports import EXPORT_FORMATS, export_links
from keel.web.decorators import company_page
from keel.web.forms import DateInput
from keel.web.navigation import NavItem, add


class AgingForm(forms.Form):
    kind = forms.ChoiceField(choices=[("receivable", "Customers (receivable)"), ("payable", "Suppliers (payable)")],
                             required=False, label="Of")
    as_of = forms.DateField(required=False, label="As of", widget=DateInput())


class PartyAgingForm(AgingForm):
    bucket = forms.ChoiceField(choices=[("", "All"), *BUCKET_LABELS.items()], required=False, label="Overdue")


def _read(form_class, request) -> tuple[forms.Form, dict]:
    """The form and its values: receivables as of today unless the request says otherwise."""
    form = form_class(request.GET or None)
    values = form.cleaned_data if form.is_valid() else {}
    return form, {"kind": values.get("kind") or "receivable", "as_of": values.get("as_of") or timezone.localdate(),
                  "bucket": values.get("bucket") or None}


def _download(table, fmt: str) -> HttpResponse:
    content, content_type, filename = render_table(table, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@company_page("ledger.view", methods=["GET"])
def aging(request):
    """What each customer owes (or each supplier is owed) by how long it is overdue, with totals."""
    form, values = _read(AgingForm, request)
    report = get_aging(request.company, kind=values["kind"], as_of=values["as_of"])
    fmt = request.GET.get("format")
    if fmt in EXPORT_FORMATS:
        return _download(aging_table(report), fmt)
    query = {"kind": report.kind, "as_of": report.as_of.isoformat()}
    rows = [{"row": row, "link": reverse("ledger:aging_party", kwargs={"pk": row.party_id}) + "?" + urlencode(query)
             if row.party_id else None,
             "cells": [(row.buckets[key], key) for key in BUCKET_KEYS]} for row in report.rows]
    return render(request, "ledger/parties/aging.html", {
        "form": form, "report": report, "rows": rows, "labels": [BUCKET_LABELS[key] for key in BUCKET_KEYS],
        "totals": [report.totals[key] for key in BUCKET_KEYS], "exports": export_links(request), "query": query,
    })


def _party(request, pk: int) -> Party:
    return get_visible(Party.objects.select_related("company"), request.user, "ledger.view", company=request.company,
                       pk=pk)


@company_page("ledger.view", methods=["GET"])
def aging_party(request, pk: int):
    """The drill-down of an aging row: the party's open items on the date, with their bucket."""
    party = _party(request, pk)
    form, values = _read(PartyAgingForm, request)
    lines = party_open_lines(request.company, party.pk, values["as_of"], kinds=[values["kind"]],
                             bucket=values["bucket"])
    report = get_aging(request.company, kind=values["kind"], as_of=values["as_of"], party_id=party.pk)
    return render(request, "ledger/parties/aging_party.html", {
        "party": party, "form": form, "lines": lines, "report": report, "values": values,
        "buckets": [(BUCKET_LABELS[key], report.totals[key]) for key in BUCKET_KEYS],
        "back": reverse("ledger:aging") + "?" + urlencode({"kind": values["kind"], "as_of": values["as_of"]}),
    })


@company_page("ledger.view", methods=["GET"])
def party_statement(request, pk: int):
    """The party's statement of account as a PDF: open items on the date and their aging."""
    party = _party(request, pk)
    _form, values = _read(AgingForm, request)
    company, as_of = request.company, values["as_of"]
    lines = party_open_lines(company, party.pk, as_of)
    reports = [get_aging(company, kind=kind, as_of=as_of, party_id=party.pk) for kind in KINDS]
    fmt = request.GET.get("format") if request.GET.get("format") in EXPORT_FORMATS else "pdf"
    return _download(statement_table(company, party, as_of, lines, reports), fmt)


urlpatterns = [
    path("aging/", aging, name="aging"),
    path("aging/party/<int:pk>/", aging_party, name="aging_party"),
    path("parties/<int:pk>/statement/", party_statement, name="party_statement"),
]

add(NavItem("Financial reports", "Aged receivables and payables", "ledger:aging", "ledger.view", order=60))
