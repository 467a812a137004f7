"""The ledger pages: books -- chart of accounts, groups, cost centres, journals, fiscal years
and periods, entries (list, detail, create/edit with lines, post, reverse, import) and the
trial balance. Thin: forms parse, services decide, selectors read."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from keel.core import submissions
from keel.core.access import get_visible, has_permission
from keel.core.exceptions import KeelError
from keel.core.money import format_money
from keel.core.records import parse_id
from keel.core.transitions import allowed_targets
from keel.ledger import selectors
from keel.ledger.choices import CashFlowCategory, EntryStatus, PeriodStatus
from keel.ledger.forms import (
    AccountFilterForm,
    AccountForm,
    AccountGroupForm,
    ChartImportForm,
    CostCentreForm,
    EntryFilterForm,
    EntryForm,
    EntryImportForm,
    FiscalYearForm,
    JournalForm,
    LineFormSet,
    ReasonForm,
    ReverseForm,
    account_label,
    line_choices,
)
from keel.ledger.models import (
    Account,
    AccountGroup,
    CostCentre,
    Entry,
    EntryImport,
    FiscalYear,
    Line,
    Period,
)
from keel.ledger.reports.statements import group_cash_flow
from keel.ledger.reports.trial_balance import trial_balance_report
from keel.ledger.services import chart, closing, importing, journals, periods, posting
from keel.ledger.sources import entry_source
from keel.ledger.transitions import PERIOD_TRANSITIONS
from keel.ledger.views.reports import (
    EXPORT_FORMATS,
    download,
    export_links,
    ledger_link,
    read_range,
)
from keel.web.decorators import company_page
from keel.web.forms import apply_error, run, submit
from keel.web.links import record_url
from keel.web.pagination import page_of
from keel.web.search_select import SEARCH_LIMIT

ACCOUNT_DOC = "ledger.account"
ACCOUNT_GROUP_DOC = "ledger.accountgroup"
ENTRY_DOC = "ledger.entry"
PERIOD_DOC = "ledger.period"
ZERO = Decimal(0)


def _can(request, permission: str) -> bool:
    return has_permission(request.user, request.company, permission)


def _done(request, outcome, success: str, fallback: str):
    if outcome.ok:
        messages.success(request, success)
    else:
        messages.error(request, outcome.error.message)
    return redirect(fallback)


# -- chart of accounts --------------------------------------------------------------------


@company_page("ledger.view", methods=["GET"])
def account_list(request):
    company = request.company
    form = AccountFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    accounts = selectors.list_accounts(company)
    query = (data.get("q") or "").strip()
    if query:
        from django.db.models import Q

        accounts = accounts.filter(Q(code__icontains=query) | Q(name__icontains=query))
    if data.get("account_type"):
        accounts = accounts.filter(account_type=data["account_type"])
    active = data.get("active") or "yes"
    if active != "all":
        accounts = accounts.filter(is_active=active == "yes")
    return render(request, "ledger/books/account_list.html", {
        "filter_form": form, "page_obj": page_of(accounts.order_by("code", "id"), request),
        "can_manage": _can(request, "ledger.manage"),
    })


@company_page("ledger.view", methods=["GET"])
def account_search(request):
    """The options of an account search-select: active accounts whose code starts with `q`
    or whose name contains it, at most SEARCH_LIMIT."""
    text = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    rows = selectors.suggest_accounts(request.company, text, limit=SEARCH_LIMIT)
    return render(request, "web/partials/search_select_options.html", {
        "options": [{"value": a.pk, "label": account_label(a)} for a in rows[:SEARCH_LIMIT]],
        "query": text, "more": len(rows) > SEARCH_LIMIT,
        "empty_text": f"No active account matches '{text}'.",
        "more_text": f"More than {SEARCH_LIMIT} accounts match: type more of the code or name.",
    })


def _account(request, pk: int, permission: str = "ledger.manage") -> Account:
    return get_visible(Account.objects.select_related("company", "group"), request.user, permission,
                       company=request.company, pk=pk)


@company_page("ledger.manage")
def account_create(request):
    company = request.company
    form = AccountForm(company=company)
    if request.method == "POST":
        form = AccountForm(request.POST, company=company)

        def call(data):
            group = AccountGroup.objects.for_company(company).filter(pk=data["group"]).first() if data["group"] else None
            return chart.create_account(
                actor=request.user, company=company, code=data["code"], name=data["name"],
                account_type=data["account_type"], role=data["role"] or "", group=group,
                currency=data["currency"] or None, description=data["description"], cash_flow=data["cash_flow"] or "",
            )

        outcome = submit(form, company=company, document_type=ACCOUNT_DOC, call=call)
        if outcome.ok:
            messages.success(request, f"Account {outcome.result} was created.")
            return redirect("ledger:account_list")
    return render(request, "web/form_page.html", {
        "form": form, "title": "New account", "submit_label": "Create account",
        "cancel_url": reverse("ledger:account_list"),
    })


@company_page("ledger.manage")
def account_edit(request, pk: int):
    company = request.company
    account = _account(request, pk)
    initial = {"code": account.code, "name": account.name, "account_type": account.account_type,
               "role": account.role, "group": account.group_id, "currency": account.currency_id or "",
               "description": account.description, "cash_flow": account.cash_flow}
    form = AccountForm(initial=initial, company=company, editing=True)
    if request.method == "POST":
        form = AccountForm(request.POST, initial=initial, company=company, editing=True)

        def call(data):
            group = AccountGroup.objects.for_company(company).filter(pk=data["group"]).first() if data["group"] else None
            return chart.update_account(actor=request.user, account=account, name=data["name"],
                                        role=data["role"] or "", group=group, description=data["description"],
                                        cash_flow=data["cash_flow"] or "")

        outcome = submit(form, company=company, document_type=ACCOUNT_DOC, call=call)
        if outcome.ok:
            messages.success(request, f"Account {account.code} was saved.")
            return redirect("ledger:account_list")
    in_use = Line.objects.filter(company=company, account=account).exists()
    return render(request, "ledger/books/account_form.html", {
        "form": form, "account": account, "in_use": in_use, "title": f"Account {account}",
        "submit_label": "Save", "cancel_url": reverse("ledger:account_list"),
    })


@company_page("ledger.manage", methods=["POST"])
def account_toggle(request, pk: int):
    account = _account(request, pk)
    active = not account.is_active
    outcome = run(request.company, ACCOUNT_DOC,
                  lambda: chart.set_account_active(actor=request.user, account=account, is_active=active))
    return _done(request, outcome, f"Account {account.code} is {'active' if active else 'inactive'} now.",
                 reverse("ledger:account_edit", kwargs={"pk": account.pk}))


@company_page("ledger.manage", methods=["POST"])
def account_delete(request, pk: int):
    account = _account(request, pk)
    outcome = run(request.company, ACCOUNT_DOC, lambda: chart.delete_account(actor=request.user, account=account))
    if outcome.ok:
        messages.success(request, f"Account {account.code} was deleted.")
        return redirect("ledger:account_list")
    messages.error(request, outcome.error.message)
    return redirect("ledger:account_edit", pk=account.pk)


@company_page("ledger.manage")
def chart_import(request):
    company = request.company
    form = ChartImportForm()
    errors: list = []
    if request.method == "POST":
        form = ChartImportForm(request.POST, request.FILES)
        outcome = submit(form, company=company, document_type=ACCOUNT_DOC,
                         call=lambda data: chart.import_chart_csv(actor=request.user, company=company,
                                                                   file=data["file"]))
        if outcome.ok:
            result = outcome.result
            messages.success(request, f"Chart loaded: {result.groups_created} groups and {result.accounts_created} "
                                      f"accounts created, {result.groups_updated} groups and "
                                      f"{result.accounts_updated} accounts updated.")
            return redirect("ledger:account_list")
        if outcome.error is not None:
            errors = outcome.error.extra.get("errors", [])
    return render(request, "ledger/books/import_form.html", {
        "form": form, "title": "Import a chart of accounts", "submit_label": "Import", "multipart": True,
        "cancel_url": reverse("ledger:account_list"), "errors": errors,
    })


@company_page("ledger.view", methods=["GET"])
def chart_export(request):
    response = HttpResponse(chart.export_chart_csv(company=request.company), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="chart-{request.company.code}.csv"'
    return response


@company_page("ledger.view", methods=["GET"])
def account_group_list(request):
    groups = list(AccountGroup.objects.for_company(request.company).select_related("parent")
                  .annotate(account_count=Count("accounts")).order_by("position", "code"))
    page_obj = page_of(groups, request, size=200)
    # What a blank section means on its row: the nearest classified parent's (top level: operating).
    by_id = {g.pk: g for g in groups}
    for group in page_obj:
        group.inherited_cash_flow = CashFlowCategory(group_cash_flow(by_id, group.parent_id)).label
    return render(request, "ledger/books/account_group_list.html", {
        "page_obj": page_obj, "can_manage": _can(request, "ledger.manage"),
    })


@company_page("ledger.manage")
def account_group_edit(request, pk: int):
    company = request.company
    group = get_visible(AccountGroup.objects.select_related("company", "parent"), request.user, "ledger.manage",
                        company=company, pk=pk)
    initial = {"name": group.name, "cash_flow": group.cash_flow}
    form = AccountGroupForm(initial=initial)
    if request.method == "POST":
        form = AccountGroupForm(request.POST, initial=initial)
        outcome = submit(form, company=company, document_type=ACCOUNT_GROUP_DOC,
                         call=lambda data: chart.update_account_group(actor=request.user, group=group, name=data["name"],
                                                                      cash_flow=data["cash_flow"] or ""))
        if outcome.ok:
            messages.success(request, f"Account group {group.code} was saved.")
            return redirect("ledger:account_group_list")
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Account group {group}", "submit_label": "Save",
        "cancel_url": reverse("ledger:account_group_list"),
    })


# -- cost centres and journals ------------------------------------------------------------


@company_page("ledger.view")
def cost_centre_list(request):
    company = request.company
    can_manage = _can(request, "ledger.manage")
    form = CostCentreForm()
    if request.method == "POST":
        if not can_manage:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Your role does not allow 'ledger.manage'.")
        form = CostCentreForm(request.POST)
        outcome = submit(form, company=company, document_type="ledger.costcentre",
                         call=lambda data: chart.create_cost_centre(actor=request.user, company=company, **data))
        if outcome.ok:
            messages.success(request, f"Cost centre {outcome.result} was created.")
            return redirect("ledger:cost_centre_list")
    return render(request, "ledger/books/cost_centre_list.html", {
        "page_obj": page_of(CostCentre.objects.for_company(company).order_by("code", "id"), request),
        "form": form, "can_manage": can_manage,
    })


@company_page("ledger.manage", methods=["POST"])
def cost_centre_toggle(request, pk: int):
    centre = get_visible(CostCentre.objects.select_related("company"), request.user, "ledger.manage",
                         company=request.company, pk=pk)
    active = not centre.is_active
    outcome = run(request.company, "ledger.costcentre",
                  lambda: chart.set_cost_centre_active(actor=request.user, cost_centre=centre, is_active=active))
    return _done(request, outcome, f"Cost centre {centre.code} is {'active' if active else 'inactive'} now.",
                 reverse("ledger:cost_centre_list"))


@company_page("ledger.view")
def journal_list(request):
    company = request.company
    can_manage = _can(request, "ledger.manage")
    form = JournalForm()
    if request.method == "POST":
        if not can_manage:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("Your role does not allow 'ledger.manage'.")
        form = JournalForm(request.POST)
        outcome = submit(form, company=company, document_type="ledger.journal",
                         call=lambda data: journals.create_journal(actor=request.user, company=company, **data))
        if outcome.ok:
            messages.success(request, f"Journal {outcome.result} was created.")
            return redirect("ledger:journal_list")
    fiscal_year = company.fiscal_year_of(timezone.localdate())
    page_obj = page_of(selectors.list_journals(company).order_by("code", "id"), request)
    page_obj.object_list = selectors.attach_journal_numbering(company, page_obj.object_list, fiscal_year)
    year_start, year_end = company.fiscal_year_bounds(fiscal_year)
    return render(request, "ledger/books/journal_list.html", {
        "page_obj": page_obj, "fiscal_year": fiscal_year, "year_start": year_start, "year_end": year_end,
        "form": form, "can_manage": can_manage,
    })


# -- fiscal years and periods -------------------------------------------------------------


@company_page("ledger.view", methods=["GET"])
def period_list(request):
    from keel.ledger.choices import PeriodStatus

    company = request.company
    years = list(FiscalYear.objects.for_company(company).order_by("-year").prefetch_related(
        Prefetch("periods", queryset=Period.objects.order_by("start"))))
    rows = []
    for year in years:
        # The periods of a closed year do not reopen (periods.reopen_period): no Reopen button.
        refused = () if year.status == PeriodStatus.OPEN else (PeriodStatus.OPEN,)
        rows.append((year, [(p, [t for t in allowed_targets(PERIOD_TRANSITIONS, p.status) if t not in refused])
                            for p in year.periods.all()]))
    return render(request, "ledger/books/period_list.html", {
        "years": rows, "year_form": FiscalYearForm(initial={"year": (years[0].year + 1) if years else
                                                            company.fiscal_year_of(timezone.localdate())}),
        "reason_form": ReasonForm(), "can_manage": _can(request, "ledger.manage"),
        "can_close": _can(request, "ledger.close"), "can_reopen": _can(request, periods.REOPEN_PERMISSION),
        "can_close_year": _can(request, closing.CLOSE_YEAR_PERMISSION),
    })


@company_page("ledger.manage", methods=["POST"])
def fiscal_year_open(request):
    company = request.company
    form = FiscalYearForm(request.POST)
    outcome = submit(form, company=company, document_type="ledger.fiscalyear",
                     call=lambda data: periods.open_fiscal_year(actor=request.user, company=company,
                                                                fiscal_year=data["year"]))
    if outcome.ok:
        messages.success(request, f"Fiscal year {outcome.result.year} is open ({outcome.result.start} to "
                                  f"{outcome.result.end}).")
    else:
        errors = [e for errors in form.errors.values() for e in errors]
        messages.error(request, errors[0] if errors else "The fiscal year could not be opened.")
    return redirect("ledger:period_list")


def _confirm(request, *, title: str, question: str, action_url: str, confirm_label: str, cancel_url: str,
             facts=(), form=None, danger: bool = False, refusal: str = "", refusal_url: str | None = None,
             refusal_link: str = "", status: int = 200):
    """A confirmation step: what is about to happen, and one button to do it (POST)."""
    return render(request, "ledger/books/confirm.html", {
        "title": title, "question": question, "action_url": action_url, "confirm_label": confirm_label,
        "cancel_url": cancel_url, "facts": list(facts), "form": form, "danger": danger, "refusal": refusal,
        "refusal_url": refusal_url, "refusal_link": refusal_link,
    }, status=status)


def _year(request, pk: int, permission: str) -> FiscalYear:
    return get_visible(FiscalYear.objects.select_related("company"), request.user, permission,
                       company=request.company, pk=pk)


@company_page(closing.CLOSE_YEAR_PERMISSION)
def fiscal_year_close(request, pk: int):
    """GET: the closing entry the close would post, and why it would be refused; POST: close."""
    company = request.company
    year = _year(request, pk, closing.CLOSE_YEAR_PERMISSION)
    if request.method == "GET":
        preview = closing.preview_fiscal_year_close(company=company, fiscal_year=year)
        return render(request, "ledger/books/fiscal_year_close.html", {"preview": preview})
    outcome = run(company, "ledger.fiscalyear",
                  lambda: closing.close_fiscal_year(actor=request.user, company=company, fiscal_year=year))
    if outcome.ok:
        result = outcome.result
        entry = f" (entry {result.entry.number})" if result.entry else ""
        amount = format_money(result.result, company.base_currency_id)
        messages.success(request, f"FY{year.year} is closed: result {amount} {company.base_currency_id} moved "
                                  f"to retained earnings{entry}.")
        return redirect("ledger:period_list")
    messages.error(request, outcome.error.message)
    return redirect("ledger:fiscal_year_close", pk=year.pk)


@company_page(periods.REOPEN_PERMISSION)
def fiscal_year_reopen(request, pk: int):
    """GET: the closing entry that will be reversed, and a reason; POST: reopen the year."""
    company = request.company
    year = _year(request, pk, periods.REOPEN_PERMISSION)
    form = ReasonForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            outcome = run(company, "ledger.fiscalyear", lambda: closing.reopen_fiscal_year(
                actor=request.user, company=company, fiscal_year=year, reason=form.cleaned_data["reason"]))
            if outcome.ok:
                reversal = outcome.result.reversal
                messages.success(request, f"FY{year.year} is open again"
                                          + (f": its closing entry was reversed by {reversal.number}." if reversal else "."))
                return redirect("ledger:period_list")
            apply_error(form, outcome.error)
        else:
            submissions.count(company, "ledger.fiscalyear", rejected=True)
    closing_entry = closing.closing_entry_of(year)
    facts = [("Fiscal year", f"FY{year.year} ({year.start:%Y-%m-%d} to {year.end:%Y-%m-%d}), {year.get_status_display()}"),
             ("Closing entry", closing_entry.number if closing_entry else "none (the year had no income or expense)")]
    refusal = "" if year.status == PeriodStatus.CLOSED else f"FY{year.year} is {year.status}: only a closed year is reopened."
    return _confirm(
        request, title=f"Reopen FY{year.year}",
        question=("Reopening the year reverses its closing entry on the year's last day and reopens its last period "
                  "and the year, so that corrections can be posted; close the year again afterwards. Its other "
                  "periods stay closed until reopened one by one. Say why: the reason is kept in the history."),
        facts=facts, form=form, action_url=reverse("ledger:fiscal_year_reopen", kwargs={"pk": year.pk}),
        confirm_label=f"Reverse the closing entry and reopen FY{year.year}", danger=True,
        cancel_url=reverse("ledger:period_list"), refusal=refusal,
    )


def _period(request, pk: int, permission: str = "ledger.close") -> Period:
    return get_visible(Period.objects.select_related("company"), request.user, permission,
                       company=request.company, pk=pk)


@company_page("ledger.close")
def period_close(request, pk: int):
    period = _period(request, pk)
    if request.method == "GET":
        return _confirm(
            request, title=f"Close period {period.name}",
            question=f"Closing {period.name} makes it refuse postings dated from {period.start:%Y-%m-%d} to "
                     f"{period.end:%Y-%m-%d}. An owner or administrator can reopen it, with a reason.",
            action_url=reverse("ledger:period_close", kwargs={"pk": period.pk}), confirm_label=f"Close {period.name}",
            cancel_url=reverse("ledger:period_list"),
            refusal="" if period.status == PeriodStatus.OPEN else f"Period {period.name} is {period.status}.",
        )
    outcome = run(request.company, PERIOD_DOC, lambda: periods.close_period(actor=request.user, period=period))
    return _done(request, outcome, f"Period {period.name} is closed.", reverse("ledger:period_list"))


@company_page(periods.REOPEN_PERMISSION, methods=["POST"])
def period_reopen(request, pk: int):
    period = _period(request, pk, periods.REOPEN_PERMISSION)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        submissions.count(request.company, PERIOD_DOC, rejected=True)
        messages.error(request, f"Say why period {period.name} is reopened.")
        return redirect("ledger:period_list")
    outcome = run(request.company, PERIOD_DOC, lambda: periods.reopen_period(
        actor=request.user, period=period, reason=form.cleaned_data["reason"]))
    return _done(request, outcome, f"Period {period.name} is open again.", reverse("ledger:period_list"))


@company_page("ledger.close")
def period_lock(request, pk: int):
    period = _period(request, pk)
    if request.method == "GET":
        return _confirm(
            request, title=f"Lock period {period.name}",
            question=f"Locking {period.name} is final: it never takes postings again and nobody can reopen it. "
                     "Lock a period once its tax return is filed or its audit is done.",
            action_url=reverse("ledger:period_lock", kwargs={"pk": period.pk}), confirm_label=f"Lock {period.name} for good",
            danger=True, cancel_url=reverse("ledger:period_list"),
            refusal="" if period.status == PeriodStatus.CLOSED else
            f"Period {period.name} is {period.status}: only a closed period is locked.",
        )
    outcome = run(request.company, PERIOD_DOC, lambda: periods.lock_period(actor=request.user, period=period))
    return _done(request, outcome, f"Period {period.name} is locked for good.", reverse("ledger:period_list"))


# -- entries ------------------------------------------------------------------------------


@company_page("ledger.view", methods=["GET"])
def entry_list(request):
    company = request.company
    form = EntryFilterForm(request.GET, company=company)
    data = form.cleaned_data if form.is_valid() else {}
    entries = selectors.filter_entries(
        company, journal=data.get("journal") or None, status=data.get("status") or None,
        date_from=data.get("date_from"), date_to=data.get("date_to"), account=(data.get("account") or "").strip() or None,
        q=(data.get("q") or "").strip() or None,
    ).order_by("-date", "-id")
    page_obj = page_of(entries, request)
    selectors.attach_entry_totals(company, page_obj.object_list)
    return render(request, "ledger/books/entry_list.html", {
        "filter_form": form, "page_obj": page_obj, "can_post": _can(request, "ledger.post"),
    })


def _entry(request, pk: int, permission: str = "ledger.view") -> Entry:
    return get_visible(Entry.objects.select_related("company", "journal", "period", "reversal_of", "created_by",
                                                    "posted_by"),
                       request.user, permission, company=request.company, pk=pk)


@company_page("ledger.view", methods=["GET"])
def entry_detail(request, pk: int):
    entry = _entry(request, pk)
    lines = list(Line.objects.filter(company=request.company, entry=entry)
                 .select_related("account", "party", "tax_code", "cost_centre").order_by("position", "id"))
    reversal = entry.reversals.only("pk", "number").first()
    return render(request, "ledger/books/entry_detail.html", {
        "entry": entry, "lines": lines, "reversal": reversal,
        "total_debit": sum((line.debit for line in lines), ZERO),
        "total_credit": sum((line.credit for line in lines), ZERO),
        "source_url": record_url(entry.source_type, entry.source_id) if entry.source_type else None,
        "can_post": _can(request, "ledger.post"),
        "owner_undo": _owner_undo(entry),
    })


def _owner_undo(entry: Entry) -> dict | None:
    """The undo of the document that owns this entry (a plain reversal is refused)."""
    source = entry_source(entry.source_type)
    if source is None:
        return None
    return {"document": source.document, "undo": source.undo, "url": source.page_url(entry.source_id)}


def _place_line_error(formset, positions: list[int], exc: KeelError, form) -> None:
    """Put the service's `lines[2].debit` error on that row's field; others on the form."""
    import re

    placed = False
    for name, texts in exc.fields.items():
        match = re.match(r"^lines\[(\d+)\](?:\.(\w+))?$", name)
        if match and int(match.group(1)) < len(positions):
            row = formset.forms[positions[int(match.group(1))]]
            field = match.group(2) if match.group(2) in row.fields else None
            for text in texts:
                row.add_error(field, text)
            placed = True
    if not placed:
        apply_error(form, exc)


def _entry_form(request, entry: Entry | None = None):
    company = request.company
    choices = line_choices(company)
    if request.method == "POST":
        data = request.POST.copy()
        if request.POST.get("action") == "add_line":
            count = data.get("lines-TOTAL_FORMS", "0")
            data["lines-TOTAL_FORMS"] = str(min((parse_id(count) or 0) + 1, 500))
        form = EntryForm(data, company=company)
        formset = LineFormSet(data, prefix="lines", choices=choices)
        action = request.POST.get("action")
        if action in ("draft", "post"):
            valid = form.is_valid() & formset.is_valid()
            if not valid:
                submissions.count(company, ENTRY_DOC, rejected=True)
            else:
                positions = [i for i, row in enumerate(formset.forms) if not row.is_blank]
                lines = [formset.forms[i].as_line() for i in positions]
                values = form.cleaned_data

                def call():
                    kwargs = {"journal": values["journal"], "date": values["date"], "lines": lines,
                              "reference": values["reference"], "description": values["description"]}
                    if entry is None:
                        service = posting.post_entry if action == "post" else posting.create_draft_entry
                        return service(actor=request.user, company=company, **kwargs)
                    from django.db import transaction

                    with transaction.atomic():
                        saved = posting.update_draft_entry(actor=request.user, entry=entry, **kwargs)
                        return posting.post_draft_entry(actor=request.user, entry=saved) if action == "post" else saved

                outcome = run(company, ENTRY_DOC, call)
                if outcome.ok:
                    saved = outcome.result
                    messages.success(request, f"Entry {saved.number} was posted." if action == "post"
                                     else "The draft was saved.")
                    return redirect("ledger:entry_detail", pk=saved.pk)
                _place_line_error(formset, positions, outcome.error, form)
    else:
        if entry is not None:
            form = EntryForm(initial={"journal": entry.journal_id, "date": entry.date, "reference": entry.reference,
                                      "description": entry.description}, company=company)
            initial = [{"account": line.account_id, "label": line.label, "debit": line.debit or None,
                        "credit": line.credit or None, "currency": line.currency_id if line.currency_id != company.base_currency_id else "",
                        "amount_currency": line.amount_currency if line.currency_id != company.base_currency_id else None,
                        "party": line.party_id, "tax_code": line.tax_code_id, "cost_centre": line.cost_centre_id,
                        "due_date": line.due_date}
                       for line in Line.objects.filter(company=company, entry=entry).order_by("position", "id")]
        else:
            form = EntryForm(initial={"date": timezone.localdate()}, company=company)
            initial = []
        formset = LineFormSet(prefix="lines", choices=choices, initial=initial + [{}] * max(0, 2 - len(initial)))
    totals = [ZERO, ZERO]
    for row in formset.forms:
        source = row.cleaned_data if row.is_bound and row.is_valid() else row.initial
        totals[0] += source.get("debit") or ZERO
        totals[1] += source.get("credit") or ZERO
    return render(request, "ledger/books/entry_form.html", {
        "form": form, "formset": formset, "entry": entry, "total_debit": totals[0], "total_credit": totals[1],
        "difference": totals[0] - totals[1],
        "title": f"Edit draft #{entry.pk}" if entry else "New entry",
        "cancel_url": reverse("ledger:entry_detail", kwargs={"pk": entry.pk}) if entry else reverse("ledger:entry_list"),
    })


@company_page("ledger.post")
def entry_create(request):
    return _entry_form(request)


@company_page("ledger.post")
def entry_edit(request, pk: int):
    entry = _entry(request, pk, "ledger.post")
    if entry.status != EntryStatus.DRAFT:
        messages.error(request, "Only drafts can be edited; reverse a posted entry instead.")
        return redirect("ledger:entry_detail", pk=entry.pk)
    return _entry_form(request, entry)


@company_page("ledger.post")
def entry_delete(request, pk: int):
    entry = _entry(request, pk, "ledger.post")
    if request.method == "GET":
        line_count = Line.objects.filter(company=request.company, entry=entry).count()
        return _confirm(
            request, title=f"Delete draft #{entry.pk}",
            question="The draft and its lines are deleted; this cannot be undone.",
            facts=[("Journal", str(entry.journal)), ("Date", f"{entry.date:%Y-%m-%d}"),
                   ("Description", entry.description or "—"), ("Lines", line_count)],
            action_url=reverse("ledger:entry_delete", kwargs={"pk": entry.pk}), confirm_label="Delete the draft",
            danger=True, cancel_url=reverse("ledger:entry_detail", kwargs={"pk": entry.pk}),
            refusal="" if entry.status == EntryStatus.DRAFT else "Only drafts are deleted; reverse a posted entry instead.",
        )
    outcome = run(request.company, ENTRY_DOC, lambda: posting.delete_draft_entry(actor=request.user, entry=entry))
    if outcome.ok:
        messages.success(request, "The draft was deleted.")
        return redirect("ledger:entry_list")
    messages.error(request, outcome.error.message)
    return redirect("ledger:entry_detail", pk=entry.pk)


@company_page("ledger.post", methods=["POST"])
def entry_post(request, pk: int):
    entry = _entry(request, pk, "ledger.post")
    outcome = run(request.company, ENTRY_DOC, lambda: posting.post_draft_entry(actor=request.user, entry=entry))
    if outcome.ok:
        messages.success(request, f"Entry {outcome.result.number} was posted.")
    else:
        messages.error(request, outcome.error.message)
    return redirect("ledger:entry_detail", pk=entry.pk)


@company_page("ledger.post")
def entry_reverse(request, pk: int):
    entry = _entry(request, pk, "ledger.post")
    if request.method == "GET":
        refusal = posting.reversal_refusal(entry) if entry.status == EntryStatus.POSTED else None
        total = sum((line.debit for line in Line.objects.filter(company=request.company, entry=entry)), ZERO)
        return _confirm(
            request, title=f"Reverse entry {entry}",
            question="A posted entry never changes: the reversal posts its mirror (every debit a credit) on the date "
                     "you choose, linked to it, and marks it reversed.",
            facts=[("Journal", str(entry.journal)), ("Date", f"{entry.date:%Y-%m-%d}"),
                   ("Description", entry.description or "—"),
                   ("Amount", f"{format_money(total, entry.company.base_currency_id)} {entry.company.base_currency_id}")],
            form=ReverseForm(initial={"date": timezone.localdate()}),
            action_url=reverse("ledger:entry_reverse", kwargs={"pk": entry.pk}), confirm_label="Post the reversal",
            danger=True, cancel_url=reverse("ledger:entry_detail", kwargs={"pk": entry.pk}),
            refusal=(refusal.message if refusal is not None else
                     "" if entry.status == EntryStatus.POSTED else f"Only posted entries are reversed; this one is {entry.status}."),
            refusal_url=refusal.extra.get("undo_url") if refusal is not None else None,
            refusal_link=refusal.extra.get("undo", "") if refusal is not None else "",
        )
    form = ReverseForm(request.POST)
    if not form.is_valid():
        submissions.count(request.company, ENTRY_DOC, rejected=True)
        messages.error(request, "Give the date of the reversal.")
        return redirect("ledger:entry_detail", pk=entry.pk)
    outcome = run(request.company, ENTRY_DOC, lambda: posting.reverse_entry(
        actor=request.user, entry=entry, date=form.cleaned_data["date"],
        description=form.cleaned_data["description"]))
    if outcome.ok:
        messages.success(request, f"Entry {entry.number} was reversed by {outcome.result.number}.")
        return redirect("ledger:entry_detail", pk=outcome.result.pk)
    messages.error(request, outcome.error.message)
    return redirect("ledger:entry_detail", pk=entry.pk)


@company_page("ledger.post")
def entry_import(request):
    """Upload a journal file: checked row by row, posted all or nothing, then the import's page
    with its entries. A file imported before asks for confirmation (the repeat checkbox)."""
    company = request.company
    form = EntryImportForm()
    result = None
    if request.method == "POST":
        form = EntryImportForm(request.POST, request.FILES)

        def call(data):
            upload = data["file"]
            upload.seek(0)  # a temporary file on disk for a large upload: read as a stream
            return importing.import_entries(actor=request.user, company=company, file=upload,
                                            file_name=upload.name or "", dry_run=data["dry_run"],
                                            accept_repeat=data["accept_repeat"])

        outcome = submit(form, company=company, document_type=ENTRY_DOC, call=call)
        if outcome.ok:
            result = outcome.result
            if result.posted:
                messages.success(request, f"{result.entries} entries ({result.lines} lines) were posted.")
                return redirect("ledger:entry_import_detail", pk=result.import_id)
    return render(request, "ledger/books/entry_import.html", {
        "form": form, "result": result, "title": "Import entries", "submit_label": "Import", "multipart": True,
        "cancel_url": reverse("ledger:entry_list"), "columns": importing.COLUMNS,
        "recent_imports": EntryImport.objects.for_company(company).select_related("imported_by")[:10],
    })


@company_page("ledger.post", methods=["GET"])
def entry_import_template(request):
    """A journal file to fill in: every column, with example rows."""
    response = HttpResponse(importing.TEMPLATE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="journal-import-template.csv"'
    return response


@company_page("ledger.view", methods=["GET"])
def entry_import_detail(request, pk: int):
    """One import: the file, who and when, and the entries it posted (by their source index)."""
    batch = get_visible(EntryImport.objects.select_related("imported_by", "repeat_of"), request.user, "ledger.view",
                        company=request.company, pk=pk)
    entries = (Entry.objects.for_company(request.company)
               .filter(source_type=importing.SOURCE_TYPE, source_id=str(batch.pk))
               .select_related("journal").order_by("date", "id"))
    page_obj = page_of(entries, request)
    selectors.attach_entry_totals(request.company, page_obj.object_list)
    return render(request, "ledger/books/entry_import_detail.html", {
        "batch": batch, "page_obj": page_obj, "title": f"Import #{batch.pk}",
    })


# -- trial balance ------------------------------------------------------------------------


@company_page("ledger.view", methods=["GET"])
def trial_balance(request):
    """Opening, debit, credit and closing per account for a range, built like the statements: the
    shared range form (comparison toggle, cost centre, 1900-9998 date bounds), exports as CSV, XLSX
    and PDF (`?format=`), and every figure opening the account's general ledger for its range."""
    form, period = read_range(request)
    report = trial_balance_report(request.company, period) if period is not None else None
    fmt = request.GET.get("format")
    if report is not None and fmt in EXPORT_FORMATS:
        return download(report, fmt)
    rows = []
    if report is not None:
        for row in report.rows:
            rows.append({
                "row": row,
                # The row of earlier years' results is no account's: nothing to open.
                "link": ledger_link(row.code, period.date_from, period.date_to, period.cost_centre)
                if row.account_id is not None else None,
                "compare_link": ledger_link(row.code, period.compare_from, period.compare_to, period.cost_centre)
                if period.has_comparison and row.account_id is not None else None,
            })
    return render(request, "ledger/books/trial_balance.html", {
        "title": "Trial balance", "form": form, "report": report, "rows": rows,
        "exports": export_links(request) if report is not None else [],
    })


urlpatterns = [
    path("accounts/", account_list, name="account_list"),
    path("search/accounts/", account_search, name="account_search"),
    path("accounts/new/", account_create, name="account_create"),
    path("accounts/import/", chart_import, name="chart_import"),
    path("accounts/export/", chart_export, name="chart_export"),
    path("accounts/<int:pk>/edit/", account_edit, name="account_edit"),
    path("accounts/<int:pk>/toggle/", account_toggle, name="account_toggle"),
    path("accounts/<int:pk>/delete/", account_delete, name="account_delete"),
    path("account-groups/", account_group_list, name="account_group_list"),
    path("account-groups/<int:pk>/edit/", account_group_edit, name="account_group_edit"),
    path("cost-centres/", cost_centre_list, name="cost_centre_list"),
    path("cost-centres/<int:pk>/toggle/", cost_centre_toggle, name="cost_centre_toggle"),
    path("journals/", journal_list, name="journal_list"),
    path("periods/", period_list, name="period_list"),
    path("fiscal-years/open/", fiscal_year_open, name="fiscal_year_open"),
    path("fiscal-years/<int:pk>/close/", fiscal_year_close, name="fiscal_year_close"),
    path("fiscal-years/<int:pk>/reopen/", fiscal_year_reopen, name="fiscal_year_reopen"),
    path("periods/<int:pk>/close/", period_close, name="period_close"),
    path("periods/<int:pk>/reopen/", period_reopen, name="period_reopen"),
    path("periods/<int:pk>/lock/", period_lock, name="period_lock"),
    path("entries/", entry_list, name="entry_list"),
    path("entries/new/", entry_create, name="entry_create"),
    path("entries/import/", entry_import, name="entry_import"),
    path("entries/import/template/", entry_import_template, name="entry_import_template"),
    path("imports/<int:pk>/", entry_import_detail, name="entry_import_detail"),
    path("entries/<int:pk>/", entry_detail, name="entry_detail"),
    path("entries/<int:pk>/edit/", entry_edit, name="entry_edit"),
    path("entries/<int:pk>/delete/", entry_delete, name="entry_delete"),
    path("entries/<int:pk>/post/", entry_post, name="entry_post"),
    path("entries/<int:pk>/reverse/", entry_reverse, name="entry_reverse"),
    path("trial-balance/", trial_balance, name="trial_balance"),
]

from keel.ledger import navigation  # noqa: E402,F401  (registers the menu entries and record pages)
