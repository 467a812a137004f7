"""The ledger pages: tax codes, the tax return (box names, net payable, filing, filed versus
the ledger, its drill-down and CSV/XLSX/PDF), revaluation."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from keel.core.access import get_visible, has_permission, require_permission
from keel.core.exceptions import ValidationFailed
from keel.ledger import exports
from keel.ledger.choices import FilingFrequency, PeriodStatus, TaxKind
from keel.ledger.models import Account, Period, Revaluation, TaxBox, TaxCode, TaxCodeComponent
from keel.ledger.services.revaluation import (
    list_revaluations,
    post_revaluation,
    preview_revaluation,
    undo_revaluation,
)
from keel.ledger.services.taxes import (
    compare_with_ledger,
    create_tax_code,
    file_tax_return,
    find_tax_return,
    get_filing_frequency,
    list_tax_returns,
    period_to_file,
    set_filing_frequency,
    set_tax_box,
    update_tax_code,
)
from keel.ledger.tax_reports import box_order, get_tax_return, list_box_lines
from keel.web.decorators import company_page
from keel.web.forms import DateInput, run, submit
from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add
from keel.web.pagination import page_of

TAX_CODE = "ledger.tax_code"
TAX_RETURN = "ledger.tax_return"
REVALUATION = "ledger.revaluation"


# -- forms ---------------------------------------------------------------------------------


class TaxCodeForm(forms.Form):
    """A tax code; with components ticked, a tax group (no rate, account or boxes of its own)."""

    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=200)
    rate = forms.DecimalField(max_digits=9, decimal_places=6, min_value=0, required=False,
                              help_text="Percent, e.g. 20. Empty for a group.")
    kind = forms.ChoiceField(choices=TaxKind.choices)
    price_included = forms.BooleanField(required=False, label="Prices include this tax")
    account = forms.ChoiceField(required=False, help_text="Empty: the chart's tax collected / deductible account.")
    base_box = forms.CharField(max_length=20, required=False, label="Return box of the base")
    tax_box = forms.CharField(max_length=20, required=False, label="Return box of the tax")
    components = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Group of",
        help_text="Tick two or more codes of the same kind to make a tax group (e.g. GST and QST): a line taxed "
                  "with it is taxed with each, on the same base. Leave empty for a plain code.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, company, tax_code: TaxCode | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = Account.objects.for_company(company).filter(is_active=True).order_by("code")
        self.fields["account"].choices = [("", "(the role account)")] + [(a.code, str(a)) for a in accounts]
        plain = TaxCode.objects.for_company(company).filter(is_group=False).order_by("code")
        if tax_code is None:
            plain = plain.filter(is_active=True)
        else:  # a group's own kind; its current components even if since deactivated
            plain = plain.filter(Q(is_active=True) | Q(group_links__group=tax_code), kind=tax_code.kind).distinct()
        self.fields["components"].choices = [
            (t.code, f"{t.code} – {t.name} ({t.get_kind_display().lower()}, {t.rate.normalize():f} %)") for t in plain]
        if tax_code is not None:  # code, kind and being a group stay: posted lines refer to them
            self.fields["components"].help_text = (
                "The taxes of the group, each on the line's base; they stay once ledger lines are taxed with it.")
            del self.fields["code"]
            del self.fields["kind"]
            drop = ("rate", "account", "base_box", "tax_box") if tax_code.is_group else ("components",)
            for name in drop:
                del self.fields[name]
        else:
            del self.fields["is_active"]


class DateRangeForm(forms.Form):
    date_from = forms.DateField(widget=DateInput, label="From")
    date_to = forms.DateField(widget=DateInput, label="To")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The range ends before it starts.")
        return data


def _range(request, default: tuple[dt.date, dt.date] | None = None) -> tuple[DateRangeForm, dt.date, dt.date]:
    """The ?date_from=&date_to= of the page; `default` (else the current month) when absent or invalid."""
    if default is not None:
        start, end = default
    else:
        today = timezone.localdate()
        start = today.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    if "date_from" not in request.GET and "date_to" not in request.GET:
        return DateRangeForm(initial={"date_from": start, "date_to": end}), start, end
    form = DateRangeForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    return form, start, end


# -- tax codes -----------------------------------------------------------------------------


@company_page("tax.view", methods=["GET"])
def tax_code_list(request):
    codes = (TaxCode.objects.for_company(request.company).select_related("account")
             .prefetch_related(Prefetch("component_links", queryset=TaxCodeComponent.objects.select_related("component"))))
    query = request.GET.get("q", "").strip()[:100]
    if query:
        codes = codes.filter(Q(code__icontains=query) | Q(name__icontains=query))
    return render(request, "ledger/taxes/tax_code_list.html", {
        "page_obj": page_of(codes.order_by("code", "id"), request), "q": query,
        "can_manage": has_permission(request.user, request.company, "tax.manage"),
    })


@company_page("tax.manage")
def tax_code_create(request):
    company = request.company
    form = TaxCodeForm(company=company, initial={"kind": TaxKind.SALES})
    if request.method == "POST":
        form = TaxCodeForm(request.POST, company=company)
        outcome = submit(form, company=company, document_type=TAX_CODE, call=lambda data: create_tax_code(
            actor=request.user, company=company, code=data["code"], name=data["name"], rate=data["rate"],
            kind=data["kind"], price_included=data["price_included"], account=data["account"] or None,
            base_box=data["base_box"], tax_box=data["tax_box"], components=data["components"],
        ))
        if outcome.ok:
            messages.success(request, f"Tax code {outcome.result.code} created.")
            return redirect("ledger:tax_code_list")
    return render(request, "web/form_page.html", {
        "form": form, "title": "New tax code", "submit_label": "Create tax code",
        "cancel_url": reverse("ledger:tax_code_list"),
    })


@company_page("tax.manage")
def tax_code_edit(request, pk: int):
    company = request.company
    tax_code = get_visible(TaxCode.objects.select_related("account"), request.user, "tax.manage",
                           company=company, pk=pk)
    initial = {"name": tax_code.name, "rate": tax_code.rate.normalize(), "price_included": tax_code.price_included,
               "account": tax_code.account.code if tax_code.account_id else "", "base_box": tax_code.base_box,
               "tax_box": tax_code.tax_box, "is_active": tax_code.is_active,
               "components": [link.component.code for link in tax_code.component_links.select_related("component")]}
    form = TaxCodeForm(company=company, tax_code=tax_code, initial=initial)
    if request.method == "POST":
        form = TaxCodeForm(request.POST, company=company, tax_code=tax_code)

        def save(data):
            changes = {name: data[name] for name in form.fields}
            if set(changes.get("components", ())) == set(initial["components"]):
                changes.pop("components", None)  # the same codes: keep their order
            if "account" in changes:
                changes["account"] = changes["account"] or None
            return update_tax_code(actor=request.user, tax_code=tax_code, **changes)

        outcome = submit(form, company=company, document_type=TAX_CODE, call=save)
        if outcome.ok:
            messages.success(request, f"Tax code {tax_code.code} saved.")
            return redirect("ledger:tax_code_list")
    return render(request, "web/form_page.html", {
        "form": form,
        "title": f"Tax {'group' if tax_code.is_group else 'code'} {tax_code.code} "
                 f"({tax_code.get_kind_display().lower()})",
        "submit_label": "Save", "cancel_url": reverse("ledger:tax_code_list"),
    })


# -- the tax return ------------------------------------------------------------------------


class FilingFrequencyForm(forms.Form):
    filing_frequency = forms.ChoiceField(choices=FilingFrequency.choices, label="Files")


def _return_url(date_from: dt.date, date_to: dt.date) -> str:
    return f"{reverse('ledger:tax_return')}?date_from={date_from.isoformat()}&date_to={date_to.isoformat()}"


@company_page("tax.view", methods=["GET"])
def tax_return(request):
    """The return of a range (by default the latest month or quarter that has ended, as the
    company files): its named boxes and the net tax payable; once filed, the filed figures
    next to the ledger's now and the difference to file."""
    company = request.company
    frequency = get_filing_frequency(company)
    form, date_from, date_to = _range(request, period_to_file(company))
    report = get_tax_return(company, date_from, date_to)
    filed = find_tax_return(company, date_from, date_to)
    comparison = compare_with_ledger(filed) if filed is not None else None
    fmt = request.GET.get("format")
    if fmt:
        table = exports.tax_return_table(report, company=company, comparison=comparison)
        content, content_type, filename = exports.render(table, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    overlapping = None
    if filed is None:
        overlapping = (list_tax_returns(company).filter(date_from__lte=date_to, date_to__gte=date_from)
                       .order_by("date_from").first())
    return render(request, "ledger/taxes/tax_return.html", {
        "form": form, "report": report, "date_from": date_from, "date_to": date_to, "filed": filed,
        "comparison": comparison, "overlapping": overlapping, "frequency": FilingFrequency(frequency),
        "frequency_form": FilingFrequencyForm(initial={"filing_frequency": frequency}),
        "has_ended": date_to < timezone.localdate(),
        "can_file": has_permission(request.user, company, "tax.file"),
        "can_manage": has_permission(request.user, company, "tax.manage"),
        "filed_page": page_of(list_tax_returns(company), request),
        "query": f"date_from={date_from.isoformat()}&date_to={date_to.isoformat()}",
    })


@company_page("tax.file", methods=["POST"])
def tax_return_file(request):
    """File the return of the posted range (a period filed before is given back as it is)."""
    form = DateRangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the period to file.")
        return redirect("ledger:tax_return")
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    outcome = run(request.company, TAX_RETURN, lambda: file_tax_return(
        actor=request.user, company=request.company, date_from=date_from, date_to=date_to))
    if outcome.ok:
        _tax_return, created = outcome.result
        if created:
            messages.success(request, f"The return from {date_from} to {date_to} was filed.")
        else:
            messages.info(request, f"The return from {date_from} to {date_to} was filed already; it stays as filed.")
    else:
        messages.error(request, outcome.error.message)
    return redirect(_return_url(date_from, date_to))


@company_page("tax.manage", methods=["POST"])
def tax_filing_frequency(request):
    form = FilingFrequencyForm(request.POST)
    if form.is_valid():
        outcome = run(request.company, TAX_RETURN, lambda: set_filing_frequency(
            actor=request.user, company=request.company, frequency=form.cleaned_data["filing_frequency"]))
        if outcome.ok:
            messages.success(request, f"The company files {form.cleaned_data['filing_frequency']}.")
        else:
            messages.error(request, outcome.error.message)
    else:
        messages.error(request, "Choose monthly or quarterly.")
    return redirect("ledger:tax_return")


@company_page("tax.view", methods=["GET"])
def tax_return_box(request):
    form, date_from, date_to = _range(request)
    box = request.GET.get("box", "").strip()[:20]
    tax_code = None
    code = request.GET.get("tax_code", "").strip()[:20]
    if code:
        tax_code = TaxCode.objects.for_company(request.company).filter(code=code).first()
    lines = list_box_lines(request.company, box, date_from, date_to, tax_code=tax_code)
    box_name = TaxBox.objects.for_company(request.company).filter(box=box).values_list("name", flat=True).first()
    return render(request, "ledger/taxes/tax_return_box.html", {
        "form": form, "box": box, "box_name": box_name or "", "tax_code": tax_code, "page_obj": page_of(lines, request),
        "date_from": date_from, "date_to": date_to,
    })


class TaxBoxForm(forms.Form):
    box = forms.CharField(max_length=20, help_text="Its number or code on the authority's form, e.g. 6.")
    name = forms.CharField(max_length=300)
    total_of = forms.CharField(max_length=200, required=False, label="Total of",
                               help_text="For a total: the earlier boxes it adds or subtracts, e.g. 3-4. Empty for a "
                                         "box the tax codes fill.")


@company_page("tax.view")
def tax_box_list(request):
    """The return's boxes with their names and totals; who manages taxes names or adds one."""
    company = request.company
    can_manage = has_permission(request.user, company, "tax.manage")
    form = TaxBoxForm()
    if request.method == "POST":
        require_permission(request.user, company, "tax.manage")  # a viewer's POST: 403
        form = TaxBoxForm(request.POST)
        outcome = submit(form, company=company, document_type=TAX_RETURN, call=lambda data: set_tax_box(
            actor=request.user, company=company, box=data["box"], name=data["name"], total_of=data["total_of"]))
        if outcome.ok:
            messages.success(request, f"Box {outcome.result.box} saved.")
            return redirect("ledger:tax_box_list")
    boxes = sorted(TaxBox.objects.for_company(company), key=lambda b: box_order(b.box))
    return render(request, "ledger/taxes/tax_box_list.html", {"boxes": boxes, "form": form, "can_manage": can_manage})


# -- revaluation ---------------------------------------------------------------------------


class RevaluationForm(forms.Form):
    period = forms.ChoiceField(label="Period end")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        periods = Period.objects.for_company(company).filter(status=PeriodStatus.OPEN).order_by("-start")
        self.fields["period"].choices = [(p.end.isoformat(), f"{p.name} (ends {p.end.isoformat()})") for p in periods]


@company_page("ledger.view")
def revaluation_page(request):
    company = request.company
    today = timezone.localdate()
    default_end = (today.replace(day=1) - dt.timedelta(days=1)).isoformat()
    chosen = request.POST.get("period") or request.GET.get("period") or default_end
    form = RevaluationForm({"period": chosen}, company=company)
    preview = error = None
    if form.is_valid():
        period_end = dt.date.fromisoformat(form.cleaned_data["period"])
        if request.method == "POST":
            outcome = run(company, REVALUATION, lambda: post_revaluation(
                actor=request.user, company=company, period_end=period_end))
            if outcome.ok:
                messages.success(request, f"Revaluation posted: {outcome.result.entry.number}, reversed by "
                                          f"{outcome.result.reversal.number}.")
                return redirect(f"{reverse('ledger:revaluation_page')}?period={period_end.isoformat()}")
            error = outcome.error.message
        try:
            preview = preview_revaluation(company=company, period_end=period_end)
        except ValidationFailed as exc:  # a missing rate: shown, nothing posted
            error = error or exc.message
    elif request.method == "POST":
        error = "Choose an open period."
    return render(request, "ledger/taxes/revaluation.html", {
        "form": form, "preview": preview, "error": error,
        "can_post": has_permission(request.user, company, "ledger.post"),
        "page_obj": page_of(list_revaluations(company), request),
    })


@company_page("ledger.post", methods=["POST"])
def revaluation_undo(request, pk: int):
    revaluation = get_visible(Revaluation.objects.all(), request.user, "ledger.post", company=request.company, pk=pk)
    outcome = run(request.company, REVALUATION, lambda: undo_revaluation(actor=request.user, revaluation=revaluation))
    if outcome.ok:
        messages.success(request, f"The revaluation at {revaluation.period_end} was undone.")
    else:
        messages.error(request, outcome.error.message)
    return redirect(f"{reverse('ledger:revaluation_page')}?period={revaluation.period_end.isoformat()}")


urlpatterns = [
    path("tax-codes/", tax_code_list, name="tax_code_list"),
    path("tax-codes/new/", tax_code_create, name="tax_code_create"),
    path("tax-codes/<int:pk>/edit/", tax_code_edit, name="tax_code_edit"),
    path("tax-boxes/", tax_box_list, name="tax_box_list"),
    path("tax-return/", tax_return, name="tax_return"),
    path("tax-return/lines/", tax_return_box, name="tax_return_box"),
    path("tax-return/file/", tax_return_file, name="tax_return_file"),
    path("tax-return/frequency/", tax_filing_frequency, name="tax_filing_frequency"),
    path("revaluation/", revaluation_page, name="revaluation_page"),
    path("revaluation/<int:pk>/undo/", revaluation_undo, name="revaluation_undo"),
]

add(NavItem("Ledger setup", "Tax codes", "ledger:tax_code_list", "tax.view", order=20))
add(NavItem("Ledger setup", "Tax return boxes", "ledger:tax_box_list", "tax.view", order=21))
add(NavItem("Financial reports", "Tax return", "ledger:tax_return", "tax.view", order=30))
add(NavItem("Accounting", "Revaluation", "ledger:revaluation_page", "ledger.view", order=30))
register_record_url("ledger.taxcode", "ledger:tax_code_edit")
