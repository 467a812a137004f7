"""The ledger pages: financial reports (profit and loss, balance sheet, cash flow, general ledger).

Each page has a range form (with a comparison toggle and a cost-centre filter) and export
buttons (`?format=csv|xlsx|pdf` on the same URL); each account figure links to the general
ledger of that account for the figure's range, whose lines link to their entry and source.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from keel.core.exceptions import KeelError
from keel.core.records import parse_id
from keel.ledger import exports, reports
from keel.ledger.models import Account, CostCentre
from keel.web.decorators import company_page
from keel.web.forms import DateInput, apply_error
from keel.web.links import record_url
from keel.web.navigation import NavItem, add

EXPORT_FORMATS = ("csv", "xlsx", "pdf")


class ReportForm(forms.Form):
    """The range of a report, an optional comparison range and cost centre (GET parameters)."""

    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", widget=DateInput())
    compare = forms.BooleanField(label="Compare with", required=False)
    compare_from = forms.DateField(label="Comparison from", required=False, widget=DateInput())
    compare_to = forms.DateField(label="Comparison to", required=False, widget=DateInput())
    cost_centre = forms.ChoiceField(label="Cost centre", required=False)

    def __init__(self, *args, company, as_of: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.as_of = as_of
        centres = CostCentre.objects.for_company(company).values_list("code", "name")
        self.fields["cost_centre"].choices = [("", "All"), *[(code, f"{code} {name}") for code, name in centres]]
        if as_of:
            self.fields["date_to"].label = "As of"
            self.fields["compare_to"].label = "Comparison as of"
            del self.fields["date_from"], self.fields["compare_from"]


def _shifted(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _defaults(company, *, as_of: bool) -> dict:
    today = timezone.localdate()
    values = {"date_to": today}
    if not as_of:
        values["date_from"] = company.fiscal_year_bounds(company.fiscal_year_of(today))[0]
    return values


def _parse_date(value) -> dt.date | None:
    try:
        return forms.DateField().clean(value)
    except ValidationError:
        return None


def read_range(request, *, as_of: bool = False):
    """(form, ReportRange or None): the request's range, the current fiscal year to date by default;
    the comparison defaults to the same range a year earlier."""
    company = request.company
    data = request.GET.copy()
    for key, value in _defaults(company, as_of=as_of).items():
        if not data.get(key):
            data[key] = value.isoformat()
    if data.get("compare"):
        for key, source in (("compare_from", "date_from"), ("compare_to", "date_to")):
            day = _parse_date(data.get(source)) if not data.get(key) else None
            if day is not None and day.year > 1:
                data[key] = _shifted(day, -1).isoformat()
    form = ReportForm(data, company=company, as_of=as_of)
    if not form.is_valid():
        return form, None
    values = form.cleaned_data
    comparing = values.get("compare")
    try:
        period = reports.report_range(
            company, date_from=values.get("date_from"), date_to=values["date_to"],
            compare_from=values.get("compare_from") if comparing else None,
            compare_to=values.get("compare_to") if comparing else None,
            cost_centre=values.get("cost_centre") or None, as_of=as_of,
        )
    except KeelError as exc:
        if exc.status != 400:
            raise
        apply_error(form, exc)
        return form, None
    return form, period


def download(subject, fmt: str) -> HttpResponse:
    content, content_type, filename = exports.render(subject, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def entry_url(entry_id: int) -> str:
    try:
        return reverse("ledger:entry_detail", kwargs={"pk": entry_id})
    except NoReverseMatch:
        return f"/ledger/entries/{entry_id}/"


def ledger_link(account: str, date_from: dt.date, date_to: dt.date, cost_centre) -> str:
    params = {"account": account, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    if cost_centre is not None:
        params["cost_centre"] = cost_centre.code
    return f"{reverse('ledger:report_general_ledger')}?{urlencode(params)}"


def drill_rows(report: reports.Report) -> list[dict]:
    """The report's rows with the general-ledger links of their figures."""
    period = report.range
    rows = []
    for row in report.rows:
        link = compare_link = None
        if row.account_id is not None:
            link = ledger_link(row.code, report.drill_from or period.date_from, report.drill_to or period.date_to,
                               period.cost_centre)
            if period.has_comparison and report.kind != "budget_versus_actual":
                compare_from = period.compare_from
                if report.kind == "balance_sheet":
                    compare_from = report.company.fiscal_year_bounds(report.company.fiscal_year_of(period.compare_to))[0]
                compare_link = ledger_link(row.code, compare_from, period.compare_to, period.cost_centre)
        rows.append({"row": row, "link": link, "compare_link": compare_link})
    return rows


def export_links(request) -> list[tuple[str, str]]:
    params = request.GET.copy()
    params.pop("cursor", None)
    links = []
    for fmt in EXPORT_FORMATS:
        params["format"] = fmt
        links.append((fmt.upper(), f"{request.path}?{params.urlencode()}"))
    return links


def render_statement(request, report: reports.Report | None, form, *, heading: str, extra: dict | None = None):
    fmt = request.GET.get("format")
    if report is not None and fmt in EXPORT_FORMATS:
        return download(report, fmt)
    return render(request, "ledger/reports/statement.html", {
        "title": heading, "form": form, "report": report, "rows": drill_rows(report) if report else [],
        "exports": export_links(request) if report else [], **(extra or {}),
    })


def _statement(build, heading: str, *, as_of: bool = False):
    def view(request):
        form, period = read_range(request, as_of=as_of)
        report = build(request.company, period) if period is not None else None
        return render_statement(request, report, form, heading=heading)

    view.__name__ = build.__name__
    view.__doc__ = build.__doc__
    return company_page("ledger.view", methods=["GET"])(view)


profit_and_loss = _statement(reports.profit_and_loss, "Profit and loss")
balance_sheet = _statement(reports.balance_sheet, "Balance sheet", as_of=True)
cash_flow = _statement(reports.cash_flow, "Cash-flow statement")


class LedgerForm(ReportForm):
    account = forms.ChoiceField(label="Account")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, company=company, **kwargs)
        del self.fields["compare"], self.fields["compare_from"], self.fields["compare_to"]
        accounts = Account.objects.for_company(company).order_by("code").values_list("code", "name")
        self.fields["account"].choices = [("", "Choose an account"), *[
            (code, f"{code} {name}") for code, name in accounts]]
        self.order_fields(["account", "date_from", "date_to", "cost_centre"])


@company_page("ledger.view", methods=["GET"])
def general_ledger(request):
    """One account's lines with running balance, for a range; the drill-down target of every report."""
    company = request.company
    data = request.GET.copy()
    account_value = data.get("account", "").strip()
    if parse_id(account_value) is not None:
        # An account's id (as the API takes) is shown as its code, unless a code is written the same way.
        accounts = Account.objects.for_company(company)
        if not accounts.filter(code=account_value).exists():
            found = accounts.filter(pk=parse_id(account_value)).values_list("code", flat=True).first()
            data["account"] = found or account_value
    defaults = _defaults(company, as_of=False)
    for key in ("date_from", "date_to"):
        data[key] = data.get(key) or defaults[key].isoformat()
    form = LedgerForm(data if account_value else None, company=company, initial=data)
    ledger = None
    if account_value and form.is_valid():
        values = form.cleaned_data
        try:
            account = reports.get_account(company, values["account"])
            period = reports.report_range(company, date_from=values["date_from"], date_to=values["date_to"],
                                          cost_centre=values.get("cost_centre") or None)
            fmt = request.GET.get("format")
            ledger = reports.general_ledger(company, account, period, cursor=None if fmt else request.GET.get("cursor"))
            if fmt in EXPORT_FORMATS:
                return download(ledger, fmt)
        except KeelError as exc:
            if exc.status != 400:
                raise
            apply_error(form, exc)
    lines = []
    if ledger is not None:
        for line in ledger.lines:
            lines.append({"line": line, "entry_url": entry_url(line.entry_id),
                          "source_url": record_url(line.source_type, line.source_id) if line.source_type else None})
    next_url = first_url = None
    if ledger is not None:
        params = request.GET.copy()
        if ledger.next_cursor:
            params["cursor"] = ledger.next_cursor
            next_url = f"{request.path}?{params.urlencode()}"
        if not ledger.is_first_page:
            params.pop("cursor", None)
            first_url = f"{request.path}?{params.urlencode()}"
    return render(request, "ledger/reports/general_ledger.html", {
        "form": form, "ledger": ledger, "lines": lines, "next_url": next_url, "first_url": first_url,
        "exports": export_links(request) if ledger else [],
    })


urlpatterns = [
    path("reports/profit-and-loss/", profit_and_loss, name="report_profit_and_loss"),
    path("reports/balance-sheet/", balance_sheet, name="report_balance_sheet"),
    path("reports/cash-flow/", cash_flow, name="report_cash_flow"),
    path("reports/general-ledger/", general_ledger, name="report_general_ledger"),
]

add(NavItem("Financial reports", "Profit and loss", "ledger:report_profit_and_loss", "ledger.view", order=20))
add(NavItem("Financial reports", "Balance sheet", "ledger:report_balance_sheet", "ledger.view", order=22))
add(NavItem("Financial reports", "Cash flow", "ledger:report_cash_flow", "ledger.view", order=24))
add(NavItem("Financial reports", "General ledger", "ledger:report_general_ledger", "ledger.view", order=26))
