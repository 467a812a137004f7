"""The ledger pages: settling open items in any currency (open items, settlements, undo).
Thin: the form filters, services/settlements.py decides."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from keel.core.access import get_visible, has_permission
from keel.ledger.models import Settlement
from keel.ledger.services import settlements
from keel.web.decorators import company_page
from keel.web.forms import DateInput, run
from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add
from keel.web.pagination import page_of
from keel.web.search_select import PartySearchField, party_lookup

SETTLEMENT_DOC = "ledger.settlement"


class OpenItemFilterForm(forms.Form):
    account = forms.ChoiceField(required=False, label="Account")
    party = PartySearchField(required=False)
    currency = forms.CharField(required=False, max_length=3)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].lookup = party_lookup(company)
        self.accounts = {a.code: a for a in settlements.settlement_accounts(company)}
        self.fields["account"].choices = [("", "All receivables and payables")] + [
            (code, f"{code} {account.name}") for code, account in self.accounts.items()]


class SettleForm(forms.Form):
    # The chosen lines come as checkboxes named "lines"; the service checks their ids.
    date = forms.DateField(required=False, widget=DateInput(), help_text="Empty: the latest line's date.")


@company_page("ledger.view")
def open_items(request):
    company = request.company
    form = OpenItemFilterForm(request.GET, company=company)
    data = form.cleaned_data if form.is_valid() else {}
    account = form.accounts.get(data.get("account") or "") if form.is_valid() else None
    party = data.get("party")
    lines = settlements.list_open_items(company, account=account, party_id=party.pk if party else None,
                                        currency=(data.get("currency") or "").strip() or None)
    settle_form = SettleForm(request.POST or None)
    can_post = has_permission(request.user, company, "ledger.post")
    if request.method == "POST":
        if not can_post:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Your role does not allow 'ledger.post'.")
        if settle_form.is_valid():
            values = settle_form.cleaned_data
            # A chosen line settles the part typed next to it, else all that is open of it.
            allocations = [{"line": line_id, "amount": request.POST.get(f"amount-{line_id}", "").strip() or None}
                           for line_id in request.POST.getlist("lines")]
            outcome = run(company, SETTLEMENT_DOC, lambda: settlements.settle_open_items(
                actor=request.user, company=company, allocations=allocations, date=values["date"]))
            if outcome.ok:
                settlement = outcome.result
                entry = f" (entry {settlement.entry.number})" if settlement.entry else " (no difference to post)"
                messages.success(request, f"Settlement #{settlement.pk} is posted{entry}.")
                return redirect("ledger:settlement_detail", pk=settlement.pk)
            messages.error(request, outcome.error.message)
        else:
            messages.error(request, "Check the date.")
        return redirect(request.get_full_path())
    page = page_of(lines.order_by("account__code", "party_id", "date", "id"), request)
    return render(request, "ledger/settlements/open_items.html", {
        "filter_form": form, "settle_form": settle_form, "can_post": can_post,
        "totals": settlements.open_item_totals(company, lines),
        "page_obj": page, "lines": settlements.open_amounts(company, page.object_list),
        "today": timezone.localdate(),
    })


@company_page("ledger.view", methods=["GET"])
def settlement_list(request):
    return render(request, "ledger/settlements/settlement_list.html", {
        "page_obj": page_of(settlements.list_settlements(request.company).order_by("-date", "-id"), request),
    })


def _settlement(request, pk: int, permission: str = "ledger.view") -> Settlement:
    return get_visible(Settlement.objects.select_related("company", "account", "party", "entry", "reversal"),
                       request.user, permission, company=request.company, pk=pk)


@company_page("ledger.view", methods=["GET"])
def settlement_detail(request, pk: int):
    settlement = _settlement(request, pk)
    allocations = settlement.settled_lines.select_related("line__entry", "line__account").order_by("line__date",
                                                                                                   "line_id")
    return render(request, "ledger/settlements/settlement_detail.html", {
        "settlement": settlement, "allocations": allocations,
        "can_post": has_permission(request.user, request.company, "ledger.post"),
    })


@company_page("ledger.post", methods=["POST"])
def settlement_undo(request, pk: int):
    settlement = _settlement(request, pk, "ledger.post")
    outcome = run(request.company, SETTLEMENT_DOC,
                  lambda: settlements.undo_settlement(actor=request.user, settlement=settlement))
    if outcome.ok:
        messages.success(request, f"Settlement #{settlement.pk} was undone; its lines are open again.")
    else:
        messages.error(request, outcome.error.message)
    return redirect(reverse("ledger:settlement_detail", kwargs={"pk": settlement.pk}))


urlpatterns = [
    path("settlements/", settlement_list, name="settlement_list"),
    path("settlements/open-items/", open_items, name="open_items"),
    path("settlements/<int:pk>/", settlement_detail, name="settlement_detail"),
    path("settlements/<int:pk>/undo/", settlement_undo, name="settlement_undo"),
]

add(NavItem("Accounting", "Open items", "ledger:open_items", "ledger.view", order=32))
add(NavItem("Accounting", "Settlements", "ledger:settlement_list", "ledger.view", order=34))

# Entries of settlements name them as their source (source_type "ledger.settlement").
register_record_url("ledger.settlement", "ledger:settlement_detail")
