"""The ledger pages: budgets (list, create, edit the grid of accounts x months, CSV import and
export, approve / return to draft, delete) and budget versus actual."""

from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse

from keel.core.access import get_visible, has_permission
from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Account, CostCentre, FiscalYear, Period
from keel.ledger.models.budgets import Budget
from keel.ledger.reports import budget_range, budget_versus_actual
from keel.ledger.services import budgets as services
from keel.ledger.views.reports import download, drill_rows, export_links
from keel.web.decorators import company_page
from keel.web.forms import DateInput, apply_error, run, submit
from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add
from keel.web.pagination import page_of
from keel.web.views import safe_next

DOCUMENT = "ledger.budget"
BLANK_ROWS = 5
# Rows one grid post may carry (a chart of 300 accounts x a few cost centres fits; the CSV import takes as many).
MAX_GRID_ROWS = services.MAX_IMPORT_ROWS


class BudgetForm(forms.Form):
    name = forms.CharField(max_length=100)
    fiscal_year = forms.TypedChoiceField(coerce=int, label="Fiscal year")
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        years = FiscalYear.objects.for_company(company).order_by("-year").values_list("year", flat=True)
        self.fields["fiscal_year"].choices = [(year, f"FY{year}") for year in years]


class BudgetEditForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class BudgetImportForm(forms.Form):
    file = forms.FileField(help_text="CSV: account, cost_centre (optional), then 'annual' or one column per month "
                                     "(2026-01 ... or 1 ... 12).")
    replace = forms.BooleanField(required=False, label="Replace the whole budget (else only the file's accounts)")


class VersusActualForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())
    cost_centre = forms.ChoiceField(label="Cost centre", required=False)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        centres = CostCentre.objects.for_company(company).values_list("code", "name")
        self.fields["cost_centre"].choices = [("", "All"), *[(code, f"{code} {name}") for code, name in centres]]


def _budget(request, pk: int) -> Budget:
    return get_visible(Budget.objects.select_related("company", "fiscal_year", "approved_by", "created_by"),
                       request.user, "ledger.view", company=request.company, pk=pk)


def _periods(budget: Budget) -> list[Period]:
    return list(Period.objects.for_company(budget.company_id).filter(fiscal_year=budget.fiscal_year_id).order_by("start"))


@company_page("ledger.view", methods=["GET"])
def budget_list(request):
    budgets = Budget.objects.for_company(request.company).select_related("fiscal_year")
    query = request.GET.get("q", "").strip()[:100]
    if query:
        budgets = budgets.filter(name__icontains=query)
    return render(request, "ledger/budgets/budget_list.html", {
        "page_obj": page_of(budgets, request), "query": query,
        "can_manage": has_permission(request.user, request.company, "budget.manage"),
    })


@company_page("budget.manage")
def budget_create(request):
    company = request.company
    form = BudgetForm(request.POST or None, company=company)
    if request.method == "POST":
        outcome = submit(form, company=company, document_type=DOCUMENT, call=lambda data: services.create_budget(
            actor=request.user, company=company, name=data["name"], fiscal_year=data["fiscal_year"],
            description=data["description"]))
        if outcome.ok:
            messages.success(request, f"Budget '{outcome.result.name}' created; now enter its amounts.")
            return redirect("ledger:budget_grid", pk=outcome.result.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": "New budget", "submit_label": "Create budget", "cancel_url": reverse("ledger:budget_list"),
    })


@company_page("ledger.view", methods=["GET"])
def budget_detail(request, pk: int):
    budget = _budget(request, pk)
    periods = _periods(budget)
    grid = services.budget_grid(budget, periods=periods)
    totals = [sum((row["amounts"][i] for row in grid), 0) for i in range(len(periods))]
    if request.GET.get("format") == "csv":
        response = HttpResponse(services.export_budget_csv(budget=budget), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="budget-{budget.pk}.csv"'
        return response
    company = request.company
    return render(request, "ledger/budgets/budget_detail.html", {
        "budget": budget, "periods": periods, "grid": grid, "totals": totals,
        "can_manage": budget.is_draft and has_permission(request.user, company, "budget.manage"),
        "can_approve": has_permission(request.user, company, "budget.approve"),
    })


@company_page("budget.manage")
def budget_edit(request, pk: int):
    budget = _budget(request, pk)
    form = BudgetEditForm(request.POST or None, initial={"name": budget.name, "description": budget.description})
    if request.method == "POST":
        outcome = submit(form, company=request.company, document_type=DOCUMENT, call=lambda data: services.update_budget(
            actor=request.user, budget=budget, name=data["name"], description=data["description"]))
        if outcome.ok:
            messages.success(request, "Budget saved.")
            return redirect("ledger:budget_detail", pk=budget.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Edit {budget}", "cancel_url": reverse("ledger:budget_detail", kwargs={"pk": pk}),
    })


def _incomplete(detail: str) -> ValidationFailed:
    return ValidationFailed(f"The grid arrived incomplete ({detail}), so nothing was saved. Reload the page and "
                            "enter the amounts again.", code="budget.grid_incomplete", field="rows")


def _grid_row(inputs: list, shown: list, account, centre, annual, amounts: list) -> None:
    shown.append({"account": account, "cost_centre": centre, "annual": annual, "amounts": amounts})
    if account:
        inputs.append(services.BudgetRowInput(account=account, cost_centre=centre or None,
                                              months=None if annual else [a or "0" for a in amounts],
                                              annual=annual or None))


def _json_grid(text: str, months: int) -> tuple[list[services.BudgetRowInput], list[dict]]:
    """The grid as the page's script sends it: one field, a JSON list of
    {"account", "cost_centre", "annual", "months": [one text per month]}."""
    try:
        data = json.loads(text)
    except ValueError:
        raise _incomplete("the grid field is not valid JSON") from None
    if not isinstance(data, list):
        raise _incomplete("the grid field is not a list of rows")
    if len(data) > MAX_GRID_ROWS:
        raise ValidationFailed(f"A budget grid has at most {MAX_GRID_ROWS} rows; import a CSV file instead.",
                               code="budget.invalid", field="rows")
    inputs, shown = [], []
    for index, item in enumerate(data):
        cells = item.get("months") if isinstance(item, dict) else None
        texts = [item.get(key, "") for key in ("account", "cost_centre", "annual")] if cells is not None else []
        if (not isinstance(cells, list) or len(cells) != months
                or not all(isinstance(value, str) for value in (*texts, *cells))):
            raise _incomplete(f"row {index + 1} is not a row of {months} months")
        account, centre, annual = (value.strip() for value in texts)
        _grid_row(inputs, shown, account, centre, annual, [value.strip() for value in cells])
    return inputs, shown


def _grid_rows(request, months: int) -> tuple[list[services.BudgetRowInput], list[dict]]:
    """The posted grid: rows with an account; every month's cell as typed (for showing errors).

    With the page's script the grid comes as one JSON field (`grid`), whatever its size;
    without it, as 3 + 12 fields per row (`rows` says how many), which Django's
    DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) bounds to 66 rows of 12 months. Saving replaces the whole budget,
    so a post whose row count is missing, not a number, or larger than the rows actually sent
    is refused (ValidationFailed) rather than read as an empty grid.
    """
    if "grid" in request.POST:
        return _json_grid(request.POST["grid"], months)
    count_text = request.POST.get("rows")
    if count_text is None:
        raise _incomplete("it has no rows field")
    if not re.fullmatch(r"[0-9]{1,6}", count_text):
        raise _incomplete("its number of rows is not a number")
    count = int(count_text)
    if count > MAX_GRID_ROWS:
        raise ValidationFailed(f"A budget grid has at most {MAX_GRID_ROWS} rows; import a CSV file instead.",
                               code="budget.invalid", field="rows")
    inputs, shown = [], []
    for index in range(count):
        if f"row-{index}-account" not in request.POST:
            raise _incomplete(f"it announces {count} rows but row {index + 1} is missing")
        account = request.POST.get(f"row-{index}-account", "").strip()
        centre = request.POST.get(f"row-{index}-cost_centre", "").strip()
        annual = request.POST.get(f"row-{index}-annual", "").strip()
        amounts = [request.POST.get(f"row-{index}-m{m}", "").strip() for m in range(months)]
        _grid_row(inputs, shown, account, centre, annual, amounts)
    return inputs, shown


def _saved_rows(budget: Budget, periods: list[Period]) -> list[dict]:
    return [{"account": row["account"].code, "cost_centre": row["cost_centre"].code if row["cost_centre"] else "",
             "annual": "", "amounts": row["amounts"]} for row in services.budget_grid(budget, periods=periods)]


def fallback_row_limit(months: int) -> int:
    """How many rows the grid can post without its script (one field per cell, the CSRF token and `rows`)."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    return MAX_GRID_ROWS if limit is None else max(limit - 2, 0) // (3 + months)


@company_page("budget.manage")
def budget_grid(request, pk: int):
    """Edit the whole budget as a grid of accounts x months (an annual amount may be spread instead)."""
    budget = _budget(request, pk)
    company = request.company
    periods = _periods(budget)
    error = None
    if request.method == "POST":
        posted: dict[str, list] = {}

        def save():
            posted["inputs"], posted["shown"] = _grid_rows(request, len(periods))
            return services.set_budget_rows(actor=request.user, budget=budget, rows=posted["inputs"], replace=True)

        outcome = run(company, DOCUMENT, save)
        if outcome.ok:
            messages.success(request, f"Budget saved: {len(posted['inputs'])} rows.")
            return redirect("ledger:budget_detail", pk=budget.pk)
        error = outcome.error
        # What was typed, when it could be read; else (an incomplete post) the budget as saved.
        rows = posted["shown"] if "shown" in posted else _saved_rows(budget, periods)
    else:
        rows = _saved_rows(budget, periods)
    rows += [{"account": "", "cost_centre": "", "annual": "", "amounts": [""] * len(periods)}
             for _ in range(BLANK_ROWS)]
    accounts = Account.objects.for_company(company).filter(is_active=True).order_by("code").values_list("code", "name")
    centres = CostCentre.objects.for_company(company).filter(is_active=True).values_list("code", "name")
    return render(request, "ledger/budgets/budget_grid.html", {
        "budget": budget, "periods": periods, "rows": rows, "row_count": len(rows), "error": error,
        "accounts": accounts, "centres": centres, "fallback_rows": fallback_row_limit(len(periods)),
    }, status=400 if error else 200)


@company_page("budget.manage")
def budget_import(request, pk: int):
    budget = _budget(request, pk)
    form = BudgetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        outcome = submit(form, company=request.company, document_type=DOCUMENT,
                         call=lambda data: services.import_budget_csv(actor=request.user, budget=budget,
                                                                      file=data["file"], replace=data["replace"]))
        if outcome.ok:
            messages.success(request, f"Imported {outcome.result} rows.")
            return redirect("ledger:budget_detail", pk=budget.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Import amounts into {budget}", "submit_label": "Import", "multipart": True,
        "cancel_url": reverse("ledger:budget_detail", kwargs={"pk": pk}),
    })


def _act(request, pk: int, service, done: str):
    budget = _budget(request, pk)
    outcome = run(request.company, DOCUMENT, lambda: service(actor=request.user, budget=budget))
    if outcome.ok:
        messages.success(request, done.format(name=budget.name))
    else:
        messages.error(request, outcome.error.message)
    return redirect(safe_next(request, reverse("ledger:budget_detail", kwargs={"pk": pk})))


@company_page("budget.approve", methods=["POST"])
def budget_approve(request, pk: int):
    return _act(request, pk, services.approve_budget, "Budget '{name}' approved.")


@company_page("budget.approve", methods=["POST"])
def budget_reopen(request, pk: int):
    return _act(request, pk, services.reopen_budget, "Budget '{name}' is a draft again.")


@company_page("budget.manage", methods=["POST"])
def budget_delete(request, pk: int):
    budget = _budget(request, pk)
    outcome = run(request.company, DOCUMENT, lambda: services.delete_budget(actor=request.user, budget=budget))
    if outcome.ok:
        messages.success(request, f"Budget '{budget.name}' deleted.")
        return redirect("ledger:budget_list")
    messages.error(request, outcome.error.message)
    return redirect("ledger:budget_detail", pk=pk)


@company_page("ledger.view", methods=["GET"])
def budget_versus_actual_page(request, pk: int):
    """Per account: budget, actual, variance and variance % for whole months of a range."""
    budget = _budget(request, pk)
    form = VersusActualForm(request.GET or None, company=request.company)
    report = None
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if not form.is_bound or form.is_valid():
        try:
            period = budget_range(budget, values.get("date_from"), values.get("date_to"),
                                  values.get("cost_centre") or None)
            report = budget_versus_actual(budget, period)
        except ValidationFailed as exc:
            apply_error(form, exc)
    fmt = request.GET.get("format")
    if report is not None and fmt in ("csv", "xlsx", "pdf"):
        return download(report, fmt)
    return render(request, "ledger/budgets/versus_actual.html", {
        "title": f"Budget versus actual: {budget}", "budget": budget, "form": form, "report": report,
        "rows": drill_rows(report) if report else [], "exports": export_links(request) if report else [],
    })


urlpatterns = [
    path("budgets/", budget_list, name="budget_list"),
    path("budgets/new/", budget_create, name="budget_create"),
    path("budgets/<int:pk>/", budget_detail, name="budget_detail"),
    path("budgets/<int:pk>/edit/", budget_edit, name="budget_edit"),
    path("budgets/<int:pk>/grid/", budget_grid, name="budget_grid"),
    path("budgets/<int:pk>/import/", budget_import, name="budget_import"),
    path("budgets/<int:pk>/approve/", budget_approve, name="budget_approve"),
    path("budgets/<int:pk>/reopen/", budget_reopen, name="budget_reopen"),
    path("budgets/<int:pk>/delete/", budget_delete, name="budget_delete"),
    path("budgets/<int:pk>/versus-actual/", budget_versus_actual_page, name="budget_versus_actual"),
]

add(NavItem("Accounting", "Budgets", "ledger:budget_list", "ledger.view", order=40))
register_record_url("ledger.budget", "ledger:budget_detail")
