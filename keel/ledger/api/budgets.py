"""The ledger API: budgets (read with `ledger.view`; change with `budget.manage`, approve with `budget.approve`).

GET/POST /api/ledger/budgets, GET/PATCH/DELETE /api/ledger/budgets/{budget_id},
POST .../{budget_id}/lines (monthly or annual amounts per account), POST .../{budget_id}/import (CSV text),
POST .../{budget_id}/approve, POST .../{budget_id}/reopen,
GET .../{budget_id}/versus-actual?date_from=&date_to=&cost_centre=
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import ApiDate, FilterSchema, InputSchema, RecordId
from keel.core.access import get_visible
from keel.core.models import Company
from keel.ledger.api.reports import ReportOut, report_out
from keel.ledger.models.budgets import Budget
from keel.ledger.reports import budget_range, budget_versus_actual
from keel.ledger.services import budgets as services

router = Router(tags=["ledger budgets"])

Amount = Annotated[Decimal, Field(max_digits=20, decimal_places=4)]
Code = Annotated[str, Field(min_length=1, max_length=40)]


class _BudgetFields(Schema):
    id: int
    name: str
    fiscal_year: int
    status: str
    description: str
    created_at: dt.datetime
    approved_at: dt.datetime | None
    approved_by: str | None


class BudgetOut(_BudgetFields):
    @staticmethod
    def resolve_fiscal_year(obj) -> int:
        return obj.fiscal_year.year

    @staticmethod
    def resolve_approved_by(obj) -> str | None:
        return obj.approved_by.username if obj.approved_by_id else None


class BudgetRowOut(Schema):
    account: str
    account_name: str
    cost_centre: str | None
    months: list[Decimal]
    total: Decimal


class BudgetDetailOut(_BudgetFields):
    periods: list[str]
    rows: list[BudgetRowOut]


class BudgetFilters(FilterSchema):
    fiscal_year: Annotated[int, Field(ge=1900, le=9999)] | None = None
    status: Literal["draft", "approved"] | None = None


class BudgetCreateIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    fiscal_year: Annotated[int, Field(ge=1900, le=9999)]
    description: Annotated[str, Field(max_length=2000)] = ""


class BudgetUpdateIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None


class BudgetRowIn(InputSchema):
    account: Code
    cost_centre: Code | None = None
    months: Annotated[list[Amount], Field(max_length=12)] | None = Field(
        None, description="One amount per month of the fiscal year, in order.")
    annual: Amount | None = Field(None, description="Or an annual amount, spread evenly over the months.")


class BudgetLinesIn(InputSchema):
    rows: Annotated[list[BudgetRowIn], Field(min_length=1, max_length=2000)]
    replace: bool = Field(False, description="Replace the whole budget (else only the rows' accounts).")


class BudgetImportIn(InputSchema):
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000)] = Field(
        description="CSV text: account, cost_centre (optional), then annual or one column per month (2026-01 or 1..12).")
    replace: bool = False


class VersusActualQuery(FilterSchema):
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None
    cost_centre: Annotated[str, Field(max_length=40)] | None = None


def _budget(request: HttpRequest, company: Company, budget_id: int) -> Budget:
    queryset = Budget.objects.select_related("company", "fiscal_year", "approved_by")
    return get_visible(queryset, actor(request), "ledger.view", company=company, pk=budget_id)


def _detail(budget: Budget) -> dict:
    from keel.ledger.models import Period

    periods = list(Period.objects.for_company(budget.company_id).filter(fiscal_year=budget.fiscal_year_id)
                   .order_by("start"))
    rows = [{"account": row["account"].code, "account_name": row["account"].name,
             "cost_centre": row["cost_centre"].code if row["cost_centre"] else None, "months": row["amounts"],
             "total": row["total"]} for row in services.budget_grid(budget, periods=periods)]
    out = {"id": budget.pk, "name": budget.name, "fiscal_year": budget.fiscal_year.year, "status": budget.status,
           "description": budget.description, "created_at": budget.created_at, "approved_at": budget.approved_at,
           "approved_by": budget.approved_by.username if budget.approved_by_id else None}
    return {**out, "periods": [p.name for p in periods], "rows": rows}


@router.get("/budgets", response=Page[BudgetOut], url_name="budget_list")
def list_budgets(request: HttpRequest, company_ref: CompanyRef, filters: Query[BudgetFilters], page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    budgets = Budget.objects.for_company(company).select_related("fiscal_year", "approved_by")
    if filters.fiscal_year is not None:
        budgets = budgets.filter(fiscal_year__year=filters.fiscal_year)
    if filters.status:
        budgets = budgets.filter(status=filters.status)
    return paginate(budgets, page, ordering=("-id",))


@router.post("/budgets", response={201: BudgetDetailOut}, url_name="budget_create")
def create_budget(request: HttpRequest, company_ref: CompanyRef, payload: BudgetCreateIn):
    """A new draft budget for a fiscal year of the company."""
    company = company_for(request, company_ref, "ledger.view")
    with track(request, company):
        budget = services.create_budget(actor=actor(request), company=company, name=payload.name,
                                        fiscal_year=payload.fiscal_year, description=payload.description)
    return Status(201, _detail(_budget(request, company, budget.pk)))


@router.get("/budgets/{budget_id}", response=BudgetDetailOut, url_name="budget_detail")
def get_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId):
    """The budget with its grid: one row per account (and cost centre), one amount per month."""
    company = company_for(request, company_ref, "ledger.view")
    return _detail(_budget(request, company, budget_id))


@router.patch("/budgets/{budget_id}", response=BudgetDetailOut, url_name="budget_update")
def update_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId, payload: BudgetUpdateIn):
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    with track(request, company):
        services.update_budget(actor=actor(request), budget=budget, name=payload.name, description=payload.description)
    return _detail(budget)


@router.delete("/budgets/{budget_id}", response={204: None}, url_name="budget_delete")
def delete_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    with track(request, company):
        services.delete_budget(actor=actor(request), budget=budget)
    return Status(204, None)


@router.post("/budgets/{budget_id}/lines", response=BudgetDetailOut, url_name="budget_lines")
def set_budget_lines(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId, payload: BudgetLinesIn):
    """Set the monthly amounts of accounts of a draft budget (each row replaces its account's amounts)."""
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    rows = [services.BudgetRowInput(account=row.account, cost_centre=row.cost_centre, months=row.months,
                                    annual=row.annual) for row in payload.rows]
    with track(request, company):
        services.set_budget_rows(actor=actor(request), budget=budget, rows=rows, replace=payload.replace)
    return _detail(budget)


@router.post("/budgets/{budget_id}/import", response=BudgetDetailOut, url_name="budget_import")
def import_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId, payload: BudgetImportIn):
    """Import budget rows from CSV text; any bad row refuses the whole file, naming the row."""
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    with track(request, company):
        services.import_budget_csv(actor=actor(request), budget=budget, file=payload.csv, replace=payload.replace)
    return _detail(budget)


@router.post("/budgets/{budget_id}/approve", response=BudgetDetailOut, url_name="budget_approve")
def approve_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    with track(request, company):
        services.approve_budget(actor=actor(request), budget=budget)
    return _detail(_budget(request, company, budget_id))


@router.post("/budgets/{budget_id}/reopen", response=BudgetDetailOut, url_name="budget_reopen")
def reopen_budget(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    with track(request, company):
        services.reopen_budget(actor=actor(request), budget=budget)
    return _detail(_budget(request, company, budget_id))


@router.get("/budgets/{budget_id}/versus-actual", response=ReportOut, url_name="budget_versus_actual")
def versus_actual(request: HttpRequest, company_ref: CompanyRef, budget_id: RecordId, query: Query[VersusActualQuery]):
    """Per account: actual (amount), budget (compare), variance and variance % for whole months of the range."""
    company = company_for(request, company_ref, "ledger.view")
    budget = _budget(request, company, budget_id)
    period = budget_range(budget, query.date_from, query.date_to, query.cost_centre)
    return report_out(budget_versus_actual(budget, period))
