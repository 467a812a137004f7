"""The ledger pages: bank accounts, statement import, statements and their reconciliation with the
ledger, and the report of what is not reconciled yet on either side.

Thin: the rules live in keel.ledger.services.bank and keel.ledger.services.reconciliation;
their refusals come back on the form (`submit`) or as a message (`run`), never as a 500.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from keel.core.access import get_visible, has_permission
from keel.core.db_money import MoneySum
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.money import format_money
from keel.ledger.bank import FORMATS
from keel.ledger.forms_bank import (
    BankAccountForm,
    MatchingRulesForm,
    ReconcileForm,
    StatementImportForm,
    UnreconciledFilterForm,
    mapping_initial,
)
from keel.ledger.models import Account, Line
from keel.ledger.models.bank import BankAccount, BankMatch, BankStatement, BankStatementLine
from keel.ledger.services import bank as bank_services
from keel.ledger.services import reconciliation as reconciliation_services
from keel.web.decorators import company_page
from keel.web.forms import run, submit
from keel.web.links import register_record_url
from keel.web.navigation import NavItem, add
from keel.web.pagination import page_of
from keel.web.views import safe_next

ACCOUNT_DOCUMENT = "ledger.bankaccount"
STATEMENT_DOCUMENT = "ledger.bankstatement"
RECONCILIATION_DOCUMENT = "ledger.bankreconciliation"
# Ledger lines offered for a split: this many days around the statement line, at most this many.
SPLIT_WINDOW_DAYS = 31
SPLIT_CANDIDATES = 15
STATEMENT_PAGE_SIZE = 100
ZERO = Decimal(0)


def _bank_account(request, pk: int) -> BankAccount:
    return get_visible(BankAccount.objects.select_related("account", "journal", "currency"), request.user,
                       "ledger.view", company=request.company, pk=pk)


def _statement(request, pk: int) -> BankStatement:
    return get_visible(BankStatement.objects.select_related("bank_account", "bank_account__account", "currency",
                                                          "imported_by"),
                       request.user, "ledger.view", company=request.company, pk=pk)


def _ledger_balances(company, accounts) -> dict[int, Decimal]:
    """{bank account id: its ledger balance today}, in one grouped query."""
    today = timezone.localdate()
    rows = (
        Line.objects.for_company(company)
        .filter(account_id__in=[a.account_id for a in accounts], date__lte=today)
        .posted()
        .values("account_id", "currency_id").order_by().annotate(total=MoneySum("amount_currency"))
    )
    totals = {(row["account_id"], row["currency_id"]): row["total"] or ZERO for row in rows}
    return {a.pk: totals.get((a.account_id, a.currency_id), ZERO) for a in accounts}


def _open_counts(company) -> dict[int, int]:
    rows = (BankStatementLine.objects.for_company(company).filter(is_reconciled=False)
            .values("statement__bank_account_id").order_by().annotate(count=Count("id")))
    return {row["statement__bank_account_id"]: row["count"] for row in rows}


# -- bank accounts ----------------------------------------------------------------------------


@company_page("ledger.view", methods=["GET"])
def bank_account_list(request):
    company = request.company
    accounts = (BankAccount.objects.for_company(company).select_related("account", "currency")
                .annotate(last_statement=Max("statements__date_to")).order_by("name", "id"))
    query = request.GET.get("q", "").strip()[:100]
    if query:
        accounts = accounts.filter(Q(name__icontains=query) | Q(iban__icontains=query.replace(" ", "")))
    page_obj = page_of(accounts, request)
    rows = list(page_obj.object_list)
    balances, open_lines = _ledger_balances(company, rows), _open_counts(company)
    for bank_account in rows:
        bank_account.ledger_balance = balances[bank_account.pk]
        bank_account.open_lines = open_lines.get(bank_account.pk, 0)
    return render(request, "ledger/bank/bank_account_list.html", {
        "page_obj": page_obj, "rows": rows, "query": query,
        "can_manage": has_permission(request.user, company, "bank.manage"),
        "can_import": has_permission(request.user, company, "bank.import"),
    })


@company_page("bank.manage")
def bank_account_create(request):
    company = request.company
    form = BankAccountForm(request.POST or None, company=company)
    if request.method == "POST":
        outcome = submit(form, company=company, document_type=ACCOUNT_DOCUMENT,
                         call=lambda data: bank_services.create_bank_account(actor=request.user, company=company, **data))
        if outcome.ok:
            messages.success(request, f"Bank account '{outcome.result.name}' created.")
            return redirect("ledger:bank_account_detail", pk=outcome.result.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": "New bank account", "submit_label": "Create bank account",
        "cancel_url": reverse("ledger:bank_account_list"),
    })


@company_page("bank.manage")
def bank_account_edit(request, pk: int):
    bank_account = _bank_account(request, pk)
    initial = {"name": bank_account.name, "iban": bank_account.iban, "bic": bank_account.bic,
               "currency": bank_account.currency_id, "account": bank_account.account.code,
               "journal": bank_account.journal.code}
    form = BankAccountForm(request.POST or None, initial=initial, company=request.company)
    if request.method == "POST":
        outcome = submit(form, company=request.company, document_type=ACCOUNT_DOCUMENT,
                         call=lambda data: bank_services.update_bank_account(actor=request.user,
                                                                             bank_account=bank_account, **data))
        if outcome.ok:
            messages.success(request, "Bank account saved.")
            return redirect("ledger:bank_account_detail", pk=bank_account.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Edit {bank_account.name}",
        "cancel_url": reverse("ledger:bank_account_detail", kwargs={"pk": pk}),
    })


RULES_DOCUMENT = "ledger.bankmatchingrules"


@company_page("ledger.view")
def bank_matching_rules(request):
    """The rules that propose matches on every reconciliation page; bank.manage may change them."""
    rules = bank_services.get_matching_rules(request.company)
    initial = {"require_equal_amount": rules.require_equal_amount, "date_window_days": rules.date_window_days,
               "match_reference": rules.match_reference, "match_party": rules.match_party}
    can_change = has_permission(request.user, request.company, "bank.manage")
    form = MatchingRulesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied("Changing the matching rules needs bank.manage.")
        outcome = submit(form, company=request.company, document_type=RULES_DOCUMENT,
                         call=lambda data: bank_services.update_matching_rules(
                             actor=request.user, company=request.company, **data))
        if outcome.ok:
            messages.success(request, "Matching rules saved; proposals use them from now on.")
            return redirect("ledger:bank_matching_rules")
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "ledger/bank/matching_rules.html", {"form": form, "rules": rules, "can_change": can_change})


@company_page("bank.manage", methods=["POST"])
def bank_account_set_active(request, pk: int):
    """Deactivate (no more imports; the statements stay) or reactivate a bank account."""
    bank_account = _bank_account(request, pk)
    is_active = request.POST.get("is_active") == "1"
    outcome = run(request.company, ACCOUNT_DOCUMENT, lambda: bank_services.set_bank_account_active(
        actor=request.user, bank_account=bank_account, is_active=is_active))
    if outcome.ok:
        messages.success(request, f"Bank account '{bank_account.name}' {'reactivated' if is_active else 'deactivated'}.")
    else:
        messages.error(request, outcome.error.message)
    return redirect("ledger:bank_account_detail", pk=pk)


@company_page("ledger.view", methods=["GET"])
def bank_account_detail(request, pk: int):
    bank_account = _bank_account(request, pk)
    company = request.company
    statements = page_of(BankStatement.objects.for_company(company).filter(bank_account=bank_account), request, size=20)
    mapping = [(key, value) for key, value in (bank_account.csv_mapping or {}).items() if value not in ("", None)]
    return render(request, "ledger/bank/bank_account_detail.html", {
        "bank_account": bank_account, "page_obj": statements, "mapping": mapping,
        "ledger_balance": _ledger_balances(company, [bank_account])[bank_account.pk],
        "open_lines": _open_counts(company).get(bank_account.pk, 0),
        "open_ledger_lines": reconciliation_services.unreconciled_ledger_lines(company, bank_account).count(),
        "can_manage": has_permission(request.user, company, "bank.manage"),
        "can_import": bank_account.is_active and has_permission(request.user, company, "bank.import"),
    })


# -- statements -------------------------------------------------------------------------------


@company_page("bank.import")
def bank_statement_import(request):
    """Upload a statement file; a CSV is read with the mapping typed here (pre-filled from the saved one)."""
    company = request.company
    accounts = list(BankAccount.objects.for_company(company).filter(is_active=True))
    chosen = request.GET.get("bank_account", "")
    selected = next((a for a in accounts if str(a.pk) == chosen), accounts[0] if len(accounts) == 1 else None)
    initial = {"bank_account": selected.pk if selected else None, **mapping_initial(selected)}
    if selected is not None and selected.csv_mapping:
        initial["file_format"] = "csv"
    form = StatementImportForm(request.POST or None, request.FILES or None, initial=initial, company=company)
    if not has_permission(request.user, company, bank_services.UNBALANCED_PERMISSION):
        del form.fields["accept_unbalanced"]  # offered only to whom may use it

    def call(data):
        bank_account = next(a for a in accounts if a.pk == data["bank_account"])
        upload = data["file"]
        if upload.size > bank_services.MAX_FILE_SIZE:
            raise ValidationFailed("The file is larger than 5 MB.", code="statement.too_large", field="file")
        is_csv = data["file_format"] == "csv"
        return bank_services.import_statements(
            actor=request.user, bank_account=bank_account, file_format=data["file_format"], data=upload.read(),
            file_name=upload.name or "", mapping=form.mapping() if is_csv else None,
            opening_balance=data["opening_balance"] if is_csv else None,
            accept_balance_gap=data["accept_balance_gap"], accept_repeated_lines=data["accept_repeated_lines"],
            accept_unbalanced=data.get("accept_unbalanced", False),
        )

    if request.method == "POST":
        outcome = submit(form, company=company, document_type=STATEMENT_DOCUMENT, call=call)
        if outcome.ok:
            statements = outcome.result
            counts = dict(BankStatementLine.objects.for_company(company).filter(statement__in=statements)
                          .values("statement_id").order_by().annotate(count=Count("id")).values_list("statement_id",
                                                                                                   "count"))
            done = "; ".join(f"{s.reference} of {s.bank_account.name}: {counts.get(s.pk, 0)} lines"
                             f"{' (unbalanced, flagged)' if s.is_unbalanced else ''}" for s in statements)
            messages.success(request, f"Statement{'s' if len(statements) > 1 else ''} imported: {done}.")
            if len(statements) == 1:
                return redirect("ledger:bank_statement_detail", pk=statements[0].pk)
            return redirect("ledger:bank_statement_list")
    return render(request, "ledger/bank/statement_import.html", {
        "form": form, "accounts": accounts, "selected": selected,
        "can_manage": has_permission(request.user, company, "bank.manage"),
    })


@company_page("ledger.view", methods=["GET"])
def bank_statement_list(request):
    company = request.company
    accounts = list(BankAccount.objects.for_company(company))
    statements = (BankStatement.objects.for_company(company).select_related("bank_account", "currency")
                  .annotate(line_count=Count("lines"), open_count=Count("lines", filter=Q(lines__is_reconciled=False)))
                  .order_by("-date_to", "-id"))
    chosen = request.GET.get("bank_account", "")
    selected = next((a for a in accounts if str(a.pk) == chosen), None)
    if selected is not None:
        statements = statements.filter(bank_account=selected)
    query = request.GET.get("q", "").strip()[:100]
    statements = bank_services.search_statements(statements, query)
    return render(request, "ledger/bank/statement_list.html", {
        "page_obj": page_of(statements, request), "accounts": accounts, "selected": selected, "query": query,
        "formats": FORMATS, "can_import": has_permission(request.user, company, "bank.import"),
    })


def _matches_by_line(company, statement_lines) -> dict[int, list[BankMatch]]:
    """The ledger lines each reconciled statement line was matched with (one query)."""
    found: dict[int, list[BankMatch]] = defaultdict(list)
    ids = [line.pk for line in statement_lines if line.is_reconciled]
    if ids:
        matches = (BankMatch.objects.for_company(company)
                   .filter(reconciliation__statement_line_id__in=ids)
                   .select_related("line", "line__entry", "reconciliation")
                   .order_by("line__date", "line_id"))
        for match in matches:
            found[match.reconciliation.statement_line_id].append(match)
    return found


@company_page("ledger.view", methods=["GET"])
def bank_statement_detail(request, pk: int):
    statement = _statement(request, pk)
    company = request.company
    page_obj = page_of(statement.lines.all(), request, size=STATEMENT_PAGE_SIZE)
    lines = list(page_obj.object_list)
    matches = _matches_by_line(company, lines)
    for line in lines:
        line.matches = matches.get(line.pk, [])
    return render(request, "ledger/bank/statement_detail.html", {
        "statement": statement, "summary": reconciliation_services.statement_summary(statement),
        "page_obj": page_obj, "lines": lines, "format_name": FORMATS.get(statement.file_format, statement.file_format),
        "can_reconcile": has_permission(request.user, company, "bank.reconcile"),
    })


@company_page("ledger.view", methods=["GET"])
def bank_statement_line_detail(request, pk: int):
    """A statement line is shown on its statement's page (on the page of lines that holds it)."""
    line = get_visible(BankStatementLine.objects.only("pk", "statement_id", "position"), request.user, "ledger.view",
                       company=request.company, pk=pk)
    # Positions run 1, 2, 3... in the order the page lists the lines.
    page = (line.position - 1) // STATEMENT_PAGE_SIZE + 1
    url = reverse("ledger:bank_statement_detail", kwargs={"pk": line.statement_id})
    return redirect(f"{url}{f'?page={page}' if page > 1 else ''}#line-{line.pk}")


# -- reconciliation ---------------------------------------------------------------------------


def _candidates(statement: BankStatement, lines: list[BankStatementLine]) -> dict[int, list[Line]]:
    """Open ledger lines of the same sign near each statement line, closest first (one query)."""
    if not lines:
        return {}
    window = dt.timedelta(days=SPLIT_WINDOW_DAYS)
    first, last = min(line.date for line in lines) - window, max(line.date for line in lines) + window
    pool = list(reconciliation_services.open_bank_lines(statement.bank_account)
                .filter(date__gte=first, date__lte=last).order_by("date", "id")[:2000])
    found = {}
    for line in lines:
        near = [c for c in pool if abs((c.date - line.date).days) <= SPLIT_WINDOW_DAYS
                and (c.amount_currency > 0) == (line.amount > 0)]
        near.sort(key=lambda c: (abs((c.date - line.date).days), c.pk))
        found[line.pk] = near[:SPLIT_CANDIDATES]
    return found


@company_page("bank.reconcile", methods=["GET"])
def bank_statement_reconcile(request, pk: int):
    """Each open line with its proposals (Accept), a split / book-to-account form; Undo on reconciled lines."""
    statement = _statement(request, pk)
    company = request.company
    open_page = page_of(statement.lines.filter(is_reconciled=False), request, size=20)
    open_lines = list(open_page.object_list)
    proposals = reconciliation_services.propose_matches(statement)
    proposed_ids = {p.line_id for line in open_lines for p in proposals.get(line.pk, [])}
    proposed = Line.objects.for_company(company).select_related("entry", "party").in_bulk(proposed_ids)
    candidates = _candidates(statement, open_lines)
    for line in open_lines:
        line.proposals = [(p, proposed[p.line_id]) for p in proposals.get(line.pk, []) if p.line_id in proposed]
        line.candidates = candidates.get(line.pk, [])
        # The party of a write-off to receivables or payables: a search-select per line, ids of its own.
        line.party_field = ReconcileForm(company=company, auto_id=f"id_%s_{line.pk}")["write_off_party"]
    done_page = Paginator(statement.lines.filter(is_reconciled=True), 50).get_page(request.GET.get("done_page"))
    done_lines = list(done_page.object_list)
    matches = _matches_by_line(company, done_lines)
    for line in done_lines:
        line.matches = matches.get(line.pk, [])
    accounts = (Account.objects.for_company(company).filter(is_active=True)
                .exclude(pk=statement.bank_account.account_id).order_by("code").values_list("code", "name"))
    return render(request, "ledger/bank/reconcile.html", {
        "statement": statement, "summary": reconciliation_services.statement_summary(statement),
        "page_obj": open_page, "open_lines": open_lines, "done_page": done_page, "done_lines": done_lines,
        "accounts": accounts, "here": request.get_full_path(), "party_media": ReconcileForm().media,
    })


def _line_text(line: BankStatementLine) -> str:
    """'Line 3 (1,234.50 EUR)': how the messages name a statement line."""
    return f"Line {line.position} ({format_money(line.amount, line.currency)} {line.currency_id})"


@company_page("bank.reconcile", methods=["POST"])
def bank_line_reconcile(request, pk: int):
    """Accept a proposal, reconcile a split, or book the line (or the difference) to an account."""
    line = reconciliation_services.get_statement_line(request.company, pk)
    default = reverse("ledger:bank_statement_reconcile", kwargs={"pk": line.statement_id})
    form = ReconcileForm(request.POST, company=request.company)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(safe_next(request, default))
    data = form.cleaned_data
    outcome = run(request.company, RECONCILIATION_DOCUMENT, lambda: reconciliation_services.reconcile_statement_line(
        actor=request.user, statement_line=line, line_ids=data["line_ids"],
        write_off_account=data["write_off_account"] or None, write_off_label=data["write_off_label"],
        write_off_party=data["write_off_party"]))
    if outcome.ok:
        entry = outcome.result.entry
        booked = f"; entry {entry.number} posted" if entry is not None else ""
        messages.success(request, f"{_line_text(line)} reconciled{booked}.")
    else:
        messages.error(request, f"{_line_text(line)}: {outcome.error.message}")
    return redirect(safe_next(request, default))


@company_page("bank.reconcile", methods=["POST"])
def bank_line_unreconcile(request, pk: int):
    line = reconciliation_services.get_statement_line(request.company, pk)
    default = reverse("ledger:bank_statement_reconcile", kwargs={"pk": line.statement_id})
    outcome = run(request.company, RECONCILIATION_DOCUMENT, lambda: reconciliation_services.unreconcile_statement_line(
        actor=request.user, statement_line=line))
    if outcome.ok:
        messages.success(request, f"{_line_text(line)} is unreconciled again.")
    else:
        messages.error(request, f"{_line_text(line)}: {outcome.error.message}")
    return redirect(safe_next(request, default))


@company_page("ledger.view", methods=["GET"])
def bank_unreconciled(request):
    """Statement lines not reconciled, and posted bank ledger lines on no statement line."""
    company = request.company
    accounts = list(BankAccount.objects.for_company(company).select_related("currency"))
    chosen = request.GET.get("bank_account", "")
    selected = next((a for a in accounts if str(a.pk) == chosen), None)
    filters = UnreconciledFilterForm(request.GET)
    filters.is_valid()  # the fields that are valid filter; the form shows what is not
    values = filters.cleaned_data
    narrowed = {"date_from": values.get("date_from"), "date_to": values.get("date_to"), "search": values.get("q") or ""}
    statement_lines = reconciliation_services.unreconciled_statement_lines(company, selected, **narrowed)
    ledger_lines = reconciliation_services.unreconciled_ledger_lines(company, selected, **narrowed)
    # A total is shown in one currency only: the chosen account's, or the one all accounts share.
    currencies = {a.currency_id: a.currency for a in accounts}
    if selected is not None:
        total_currency = selected.currency
    elif len(currencies) <= 1:
        total_currency = next(iter(currencies.values()), None) or company.base_currency
    else:
        total_currency = None
    return render(request, "ledger/bank/unreconciled.html", {
        "accounts": accounts, "selected": selected, "total_currency": total_currency, "filters": filters,
        "is_narrowed": any(narrowed.values()),
        "page_obj": page_of(statement_lines.select_related("currency"), request),
        "statement_total": statement_lines.aggregate(total=MoneySum("amount"))["total"] or ZERO,
        "ledger_page": Paginator(ledger_lines.select_related("currency"), 50).get_page(request.GET.get("ledger_page")),
        "ledger_total": ledger_lines.aggregate(total=MoneySum("amount_currency"))["total"] or ZERO,
    })


urlpatterns = [
    path("bank/accounts/", bank_account_list, name="bank_account_list"),
    path("bank/accounts/new/", bank_account_create, name="bank_account_create"),
    path("bank/accounts/<int:pk>/", bank_account_detail, name="bank_account_detail"),
    path("bank/accounts/<int:pk>/edit/", bank_account_edit, name="bank_account_edit"),
    path("bank/accounts/<int:pk>/active/", bank_account_set_active, name="bank_account_set_active"),
    path("bank/statements/", bank_statement_list, name="bank_statement_list"),
    path("bank/statements/import/", bank_statement_import, name="bank_statement_import"),
    path("bank/statements/<int:pk>/", bank_statement_detail, name="bank_statement_detail"),
    path("bank/statements/<int:pk>/reconcile/", bank_statement_reconcile, name="bank_statement_reconcile"),
    path("bank/lines/<int:pk>/", bank_statement_line_detail, name="bank_statement_line_detail"),
    path("bank/lines/<int:pk>/reconcile/", bank_line_reconcile, name="bank_line_reconcile"),
    path("bank/lines/<int:pk>/unreconcile/", bank_line_unreconcile, name="bank_line_unreconcile"),
    path("bank/unreconciled/", bank_unreconciled, name="bank_unreconciled"),
    path("bank/matching-rules/", bank_matching_rules, name="bank_matching_rules"),
]

add(NavItem("Bank", "Bank accounts", "ledger:bank_account_list", "ledger.view", order=10))
add(NavItem("Bank", "Bank statements", "ledger:bank_statement_list", "ledger.view", order=12))
add(NavItem("Bank", "Import statement", "ledger:bank_statement_import", "bank.import", order=14))
add(NavItem("Bank", "Unreconciled bank items", "ledger:bank_unreconciled", "ledger.view", order=16))
add(NavItem("Bank", "Matching rules", "ledger:bank_matching_rules", "ledger.view", order=18))
register_record_url("ledger.bankaccount", "ledger:bank_account_detail")
register_record_url("ledger.bankstatement", "ledger:bank_statement_detail")
register_record_url("ledger.bankstatementline", "ledger:bank_statement_line_detail")
