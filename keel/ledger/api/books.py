"""The ledger API: books -- entries, accounts, journals, cost centres, periods, fiscal
years and the trial balance. Thin: parse, call the service or selector, serialise."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import RecordId
from keel.core.access import get_visible
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company
from keel.ledger import selectors
from keel.ledger.models import Account, AccountGroup, CostCentre, Entry, FiscalYear, Line, Period
from keel.ledger.reports import report_range
from keel.ledger.reports.statements import group_cash_flow
from keel.ledger.reports.trial_balance import trial_balance_report
from keel.ledger.schemas import (
    AccountFilters,
    AccountGroupOut,
    AccountGroupPatchIn,
    AccountIn,
    AccountOut,
    AccountPatchIn,
    ClosingPreviewOut,
    CostCentreIn,
    CostCentreOut,
    CostCentrePatchIn,
    EntryFilters,
    EntryIn,
    EntryOut,
    EntryPatchIn,
    EntrySummaryOut,
    FiscalYearClosedOut,
    FiscalYearIn,
    FiscalYearOut,
    FiscalYearReopenedOut,
    JournalOut,
    PeriodFilters,
    PeriodOut,
    ReopenIn,
    ReverseIn,
    TrialBalanceOut,
    TrialBalanceQuery,
    _money,
    trial_balance_out,
)
from keel.ledger.services import chart, closing, periods, posting

router = Router()


# -- entries ------------------------------------------------------------------------------


def _entry(request: HttpRequest, company: Company, entry_id: int) -> Entry:
    lines = Line.objects.select_related("account", "tax_code", "cost_centre").order_by("position", "id")
    queryset = Entry.objects.select_related("journal", "period").prefetch_related(
        Prefetch("lines", queryset=lines), "reversals")
    return get_visible(queryset, actor(request), "ledger.view", company=company, pk=entry_id)


def _journal(code: str) -> str:
    """A journal code as the posting service looks it up (it names the field when unknown)."""
    return code.strip().upper()


@router.get("/entries", response=Page[EntrySummaryOut], url_name="ledger_entry_list")
def list_entries(request: HttpRequest, company_ref: CompanyRef, filters: Query[EntryFilters], page: Query[PageQuery]):
    """Entries, newest first; filter by journal, status, date range, account code or a search."""
    company = company_for(request, company_ref, "ledger.view")
    entries = selectors.filter_entries(company, **filters.model_dump())
    return paginate(entries, page, ordering=("-date", "-id"))


@router.post("/entries", response={201: EntryOut}, url_name="ledger_entry_create")
def create_entry(request: HttpRequest, company_ref: CompanyRef, payload: EntryIn):
    """Save a draft entry, or post it at once with `post: true` (numbered, immutable)."""
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        service = posting.post_entry if payload.post else posting.create_draft_entry
        entry = service(
            actor=actor(request), company=company, journal=_journal(payload.journal), date=payload.date,
            lines=[line.as_line() for line in payload.lines], reference=payload.reference,
            description=payload.description,
        )
    return Status(201, _entry(request, company, entry.pk))


@router.get("/entries/{entry_id}", response=EntryOut, url_name="ledger_entry_detail")
def get_entry(request: HttpRequest, company_ref: CompanyRef, entry_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    return _entry(request, company, entry_id)


@router.patch("/entries/{entry_id}", response=EntryOut, url_name="ledger_entry_update")
def update_entry(request: HttpRequest, company_ref: CompanyRef, entry_id: RecordId, payload: EntryPatchIn):
    """Change a draft (lines are replaced as a whole when given)."""
    company = company_for(request, company_ref, "ledger.view")
    entry = _entry(request, company, entry_id)
    with track(request, company):
        posting.update_draft_entry(
            actor=actor(request), entry=entry,
            journal=_journal(payload.journal) if payload.journal is not None else None,
            date=payload.date, reference=payload.reference, description=payload.description,
            lines=[line.as_line() for line in payload.lines] if payload.lines is not None else None,
        )
    return _entry(request, company, entry_id)


@router.delete("/entries/{entry_id}", response={204: None}, url_name="ledger_entry_delete")
def delete_entry(request: HttpRequest, company_ref: CompanyRef, entry_id: RecordId):
    """Delete a draft (a posted entry is reversed, never deleted)."""
    company = company_for(request, company_ref, "ledger.view")
    entry = _entry(request, company, entry_id)
    with track(request, company):
        posting.delete_draft_entry(actor=actor(request), entry=entry)
    return Status(204, None)


@router.post("/entries/{entry_id}/post", response=EntryOut, url_name="ledger_entry_post")
def post_draft(request: HttpRequest, company_ref: CompanyRef, entry_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    entry = _entry(request, company, entry_id)
    with track(request, company):
        posting.post_draft_entry(actor=actor(request), entry=entry)
    return _entry(request, company, entry_id)


@router.post("/entries/{entry_id}/reverse", response={201: EntryOut}, url_name="ledger_entry_reverse")
def reverse(request: HttpRequest, company_ref: CompanyRef, entry_id: RecordId, payload: ReverseIn):
    """Post the mirror entry on `date`; answers the reversal (its `reversal_of` is this entry)."""
    company = company_for(request, company_ref, "ledger.view")
    entry = _entry(request, company, entry_id)
    with track(request, company):
        reversal = posting.reverse_entry(actor=actor(request), entry=entry, date=payload.date,
                                         description=payload.description)
    return Status(201, _entry(request, company, reversal.pk))


# -- accounts, journals, cost centres -----------------------------------------------------


def _group(company: Company, code: str | None) -> AccountGroup | None:
    if not code:
        return None
    group = AccountGroup.objects.for_company(company).filter(code=code.strip()).first()
    if group is None:
        raise ValidationFailed(f"There is no account group '{code}'.", code="account.group_not_found", field="group")
    return group


@router.get("/accounts", response=Page[AccountOut], url_name="ledger_account_list")
def list_accounts(request: HttpRequest, company_ref: CompanyRef, filters: Query[AccountFilters],
                  page: Query[PageQuery]):
    """The chart of accounts, by code."""
    company = company_for(request, company_ref, "ledger.view")
    accounts = selectors.list_accounts(company)
    if filters.account_type:
        accounts = accounts.filter(account_type=filters.account_type)
    if filters.active is not None:
        accounts = accounts.filter(is_active=filters.active)
    if filters.q:
        accounts = accounts.filter(Q(code__icontains=filters.q) | Q(name__icontains=filters.q))
    return paginate(accounts, page, ordering=("code", "id"))


@router.post("/accounts", response={201: AccountOut}, url_name="ledger_account_create")
def create_account(request: HttpRequest, company_ref: CompanyRef, payload: AccountIn):
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        account = chart.create_account(
            actor=actor(request), company=company, code=payload.code, name=payload.name,
            account_type=payload.account_type, role=payload.role, group=_group(company, payload.group),
            currency=payload.currency, description=payload.description, cash_flow=payload.cash_flow,
        )
    return Status(201, Account.objects.select_related("group").get(pk=account.pk))


@router.patch("/accounts/{account_id}", response=AccountOut, url_name="ledger_account_update")
def update_account(request: HttpRequest, company_ref: CompanyRef, account_id: RecordId, payload: AccountPatchIn):
    """Rename, change role, group, description or cash-flow section; `is_active` deactivates or reactivates."""
    company = company_for(request, company_ref, "ledger.view")
    account = get_visible(Account.objects.select_related("company", "group"), actor(request), "ledger.view",
                          company=company, pk=account_id)
    fields = payload.model_fields_set
    with track(request, company), transaction.atomic():
        chart.update_account(
            actor=actor(request), account=account, name=payload.name, role=payload.role,
            group=_group(company, payload.group) if "group" in fields else False, description=payload.description,
            cash_flow=payload.cash_flow,
        )
        if payload.is_active is not None:
            chart.set_account_active(actor=actor(request), account=account, is_active=payload.is_active)
    return Account.objects.select_related("group").get(pk=account.pk)


def _with_effective_cash_flow(company: Company, groups: list[AccountGroup]) -> list[AccountGroup]:
    by_id = {g.pk: g for g in AccountGroup.objects.for_company(company)}
    for group in groups:
        group.effective_cash_flow = group_cash_flow(by_id, group.pk)
    return groups


@router.get("/account-groups", response=Page[AccountGroupOut], url_name="ledger_account_group_list")
def list_account_groups(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    """The headings of the chart in report order, each with its cash-flow section (own and effective)."""
    company = company_for(request, company_ref, "ledger.view")
    groups = AccountGroup.objects.for_company(company).select_related("parent")
    result = paginate(groups, page, ordering=("position", "code", "id"))
    _with_effective_cash_flow(company, result["items"])
    return result


@router.patch("/account-groups/{group_id}", response=AccountGroupOut, url_name="ledger_account_group_update")
def update_account_group(request: HttpRequest, company_ref: CompanyRef, group_id: RecordId,
                         payload: AccountGroupPatchIn):
    """Rename a group or set its cash-flow section (operating, non_cash, investing, financing; "" inherits)."""
    company = company_for(request, company_ref, "ledger.view")
    group = get_visible(AccountGroup.objects.select_related("company", "parent"), actor(request), "ledger.view",
                        company=company, pk=group_id)
    with track(request, company):
        chart.update_account_group(actor=actor(request), group=group, name=payload.name, cash_flow=payload.cash_flow)
    return _with_effective_cash_flow(company, [group])[0]


@router.get("/journals", response=Page[JournalOut], url_name="ledger_journal_list")
def list_journals(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(selectors.list_journals(company), page, ordering=("code", "id"))


@router.get("/cost-centres", response=Page[CostCentreOut], url_name="ledger_cost_centre_list")
def list_cost_centres(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(CostCentre.objects.for_company(company), page, ordering=("code", "id"))


@router.post("/cost-centres", response={201: CostCentreOut}, url_name="ledger_cost_centre_create")
def create_cost_centre(request: HttpRequest, company_ref: CompanyRef, payload: CostCentreIn):
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        centre = chart.create_cost_centre(actor=actor(request), company=company, code=payload.code,
                                          name=payload.name)
    return Status(201, centre)


@router.patch("/cost-centres/{cost_centre_id}", response=CostCentreOut, url_name="ledger_cost_centre_update")
def update_cost_centre(request: HttpRequest, company_ref: CompanyRef, cost_centre_id: RecordId,
                       payload: CostCentrePatchIn):
    """Deactivate or reactivate a cost centre."""
    company = company_for(request, company_ref, "ledger.view")
    centre = get_visible(CostCentre.objects.select_related("company"), actor(request), "ledger.manage",
                         company=company, pk=cost_centre_id)
    with track(request, company):
        return chart.set_cost_centre_active(actor=actor(request), cost_centre=centre, is_active=payload.is_active)


# -- periods and fiscal years -------------------------------------------------------------


def _period(request: HttpRequest, company: Company, period_id: int) -> Period:
    return get_visible(Period.objects.select_related("company", "fiscal_year"), actor(request), "ledger.view",
                       company=company, pk=period_id)


@router.get("/periods", response=Page[PeriodOut], url_name="ledger_period_list")
def list_periods(request: HttpRequest, company_ref: CompanyRef, filters: Query[PeriodFilters], page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    rows = selectors.list_periods(company)
    if filters.fiscal_year:
        rows = rows.filter(fiscal_year__year=filters.fiscal_year)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return paginate(rows, page, ordering=("start", "id"))


@router.post("/periods/{period_id}/close", response=PeriodOut, url_name="ledger_period_close")
def close_period(request: HttpRequest, company_ref: CompanyRef, period_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    period = _period(request, company, period_id)
    with track(request, company):
        periods.close_period(actor=actor(request), period=period)
    return _period(request, company, period_id)


@router.post("/periods/{period_id}/reopen", response=PeriodOut, url_name="ledger_period_reopen")
def reopen_period(request: HttpRequest, company_ref: CompanyRef, period_id: RecordId, payload: ReopenIn):
    company = company_for(request, company_ref, "ledger.view")
    period = _period(request, company, period_id)
    with track(request, company):
        periods.reopen_period(actor=actor(request), period=period, reason=payload.reason)
    return _period(request, company, period_id)


@router.post("/periods/{period_id}/lock", response=PeriodOut, url_name="ledger_period_lock")
def lock_period(request: HttpRequest, company_ref: CompanyRef, period_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    period = _period(request, company, period_id)
    with track(request, company):
        periods.lock_period(actor=actor(request), period=period)
    return _period(request, company, period_id)


@router.get("/fiscal-years", response=Page[FiscalYearOut], url_name="ledger_fiscal_year_list")
def list_fiscal_years(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(FiscalYear.objects.for_company(company), page, ordering=("year", "id"))


@router.post("/fiscal-years", response={201: FiscalYearOut}, url_name="ledger_fiscal_year_create")
def open_fiscal_year(request: HttpRequest, company_ref: CompanyRef, payload: FiscalYearIn):
    """Open a fiscal year: its twelve monthly periods (idempotent)."""
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        year = periods.open_fiscal_year(actor=actor(request), company=company, fiscal_year=payload.year)
    return Status(201, year)


def _fiscal_year(company: Company, fiscal_year: int) -> FiscalYear:
    year = FiscalYear.objects.for_company(company).filter(year=fiscal_year).first() if 1900 <= fiscal_year <= 2999 else None
    if year is None:
        raise NotFound(f"{company.code} has no fiscal year {fiscal_year}.", code="record.not_found")
    return year


@router.get("/fiscal-years/{fiscal_year}/close-preview", response=ClosingPreviewOut,
            url_name="ledger_fiscal_year_close_preview")
def preview_fiscal_year_close(request: HttpRequest, company_ref: CompanyRef, fiscal_year: int):
    """The closing entry a close would post now (nothing is written), and why it would be refused."""
    company = company_for(request, company_ref, closing.CLOSE_YEAR_PERMISSION)
    preview = closing.preview_fiscal_year_close(company=company, fiscal_year=_fiscal_year(company, fiscal_year))
    return {
        "fiscal_year": preview.fiscal_year, "journal": preview.journal.code if preview.journal else None,
        "lines": [{"account": line.account.code, "account_name": line.account.name, "label": line.label,
                   "debit": _money(line.debit), "credit": _money(line.credit)} for line in preview.lines],
        "result": _money(preview.result), "can_close": preview.can_close,
        "refusals": [{"code": refusal.code, "message": refusal.message} for refusal in preview.refusals],
    }


@router.post("/fiscal-years/{fiscal_year}/reopen", response=FiscalYearReopenedOut,
             url_name="ledger_fiscal_year_reopen")
def reopen_fiscal_year(request: HttpRequest, company_ref: CompanyRef, fiscal_year: int, payload: ReopenIn):
    """Reopen a closed year (owners and administrators, with a reason): its closing entry is reversed."""
    company = company_for(request, company_ref, "ledger.view")
    year = _fiscal_year(company, fiscal_year)
    with track(request, company):
        result = closing.reopen_fiscal_year(actor=actor(request), company=company, fiscal_year=year,
                                            reason=payload.reason)
    return {"fiscal_year": result.fiscal_year, "reversal": result.reversal, "reason": result.reason}


@router.post("/fiscal-years/{fiscal_year}/close", response=FiscalYearClosedOut, url_name="ledger_fiscal_year_close")
def close_fiscal_year(request: HttpRequest, company_ref: CompanyRef, fiscal_year: int):
    """Year-end close (owners and administrators, from the year's last day): the result moves
    to retained earnings, the periods close. GET .../close-preview shows the entry first."""
    company = company_for(request, company_ref, "ledger.view")
    year = _fiscal_year(company, fiscal_year)
    with track(request, company):
        result = closing.close_fiscal_year(actor=actor(request), company=company, fiscal_year=year)
    return {"fiscal_year": result.fiscal_year, "entry": result.entry, "result": _money(result.result),
            "periods_closed": result.periods_closed}


@router.get("/trial-balance", response=TrialBalanceOut, url_name="ledger_trial_balance")
def trial_balance(request: HttpRequest, company_ref: CompanyRef, query: Query[TrialBalanceQuery]):
    """Opening, debit, credit and closing per account for the range (company currency), optionally
    beside a comparison range (compare_from, compare_to) and for one cost centre."""
    company = company_for(request, company_ref, "ledger.view")
    period = report_range(company, date_from=query.date_from, date_to=query.date_to, compare_from=query.compare_from,
                          compare_to=query.compare_to, cost_centre=query.cost_centre)
    return trial_balance_out(trial_balance_report(company, period))
