"""The ledger API: financial reports (read only; `ledger.view`).

GET /api/ledger/reports/general-ledger?account=&date_from=&date_to=[&cost_centre=&cursor=&limit=]
GET /api/ledger/reports/{profit-and-loss,balance-sheet,cash-flow}?date_from=&date_to=
    [&compare_from=&compare_to=&cost_centre=]   (the balance sheet is as of date_to)

Amounts come out as strings (Decimal, never float).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from keel.api.context import CompanyRef, company_for
from keel.api.schemas import ApiDate, FilterSchema
from keel.ledger import reports
from keel.ledger.reports import GeneralLedger, Report

router = Router(tags=["ledger reports"])

Code = Annotated[str, Field(max_length=40)]


class ReportQuery(FilterSchema):
    date_from: ApiDate | None = Field(None, description="First day of the range (the balance sheet ignores it).")
    date_to: ApiDate | None = Field(None, description="Last day of the range; the balance sheet's date.")
    compare_from: ApiDate | None = None
    compare_to: ApiDate | None = None
    cost_centre: Code | None = Field(None, description="A cost centre's code: only its lines count.")


class LedgerQuery(ReportQuery):
    account: Code | None = Field(None, description="The account's code (or id).")
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class RowOut(Schema):
    kind: str
    label: str
    code: str
    account_id: int | None
    level: int
    amount: Decimal | None
    compare: Decimal | None
    variance: Decimal | None
    variance_percent: Decimal | None


class ReportOut(Schema):
    kind: str
    title: str
    currency: str
    date_from: dt.date
    date_to: dt.date
    compare_from: dt.date | None
    compare_to: dt.date | None
    cost_centre: str | None
    amount_label: str
    compare_label: str
    rows: list[RowOut]
    summary: dict[str, Decimal | bool | None]
    compare_summary: dict[str, Decimal | bool | None]


class LedgerLineOut(Schema):
    line_id: int
    entry_id: int
    date: dt.date
    journal: str
    number: str
    reference: str
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    cost_centre: str
    party: str
    source_type: str
    source_id: str


class GeneralLedgerOut(Schema):
    account: str
    account_name: str
    currency: str
    date_from: dt.date
    date_to: dt.date
    cost_centre: str | None
    opening: Decimal
    total_debit: Decimal
    total_credit: Decimal
    closing: Decimal
    page_opening: Decimal
    lines: list[LedgerLineOut]
    next_cursor: str | None


def report_out(report: Report) -> dict:
    period = report.range
    return {
        "kind": report.kind, "title": report.title, "currency": report.currency, "date_from": period.date_from,
        "date_to": period.date_to, "compare_from": period.compare_from, "compare_to": period.compare_to,
        "cost_centre": period.cost_centre.code if period.cost_centre else None,
        "amount_label": report.amount_label, "compare_label": report.compare_label,
        "rows": [{"kind": r.kind, "label": r.label, "code": r.code, "account_id": r.account_id, "level": r.level,
                  "amount": r.amount, "compare": r.compare, "variance": r.variance,
                  "variance_percent": r.variance_percent} for r in report.rows],
        "summary": report.summary, "compare_summary": report.compare_summary,
    }


def _range(company, query: ReportQuery, *, as_of: bool = False):
    return reports.report_range(company, date_from=None if as_of else query.date_from, date_to=query.date_to,
                                compare_from=None if as_of else query.compare_from, compare_to=query.compare_to,
                                cost_centre=query.cost_centre, as_of=as_of)


def ledger_out(ledger: GeneralLedger) -> dict:
    period = ledger.range
    return {
        "account": ledger.account.code, "account_name": ledger.account.name, "currency": ledger.currency,
        "date_from": period.date_from, "date_to": period.date_to,
        "cost_centre": period.cost_centre.code if period.cost_centre else None, "opening": ledger.opening,
        "total_debit": ledger.total_debit, "total_credit": ledger.total_credit, "closing": ledger.closing,
        "page_opening": ledger.page_opening, "lines": [vars(line) for line in ledger.lines],
        "next_cursor": ledger.next_cursor,
    }


@router.get("/reports/general-ledger", response=GeneralLedgerOut, url_name="report_general_ledger")
def general_ledger(request: HttpRequest, company_ref: CompanyRef, query: Query[LedgerQuery]):
    """One account's opening balance, lines with running balance (one key-set page) and closing balance."""
    company = company_for(request, company_ref, "ledger.view")
    account = reports.get_account(company, query.account)
    period = _range(company, query)
    return ledger_out(reports.general_ledger(company, account, period, cursor=query.cursor, size=query.limit))


@router.get("/reports/profit-and-loss", response=ReportOut, url_name="report_profit_and_loss")
def profit_and_loss(request: HttpRequest, company_ref: CompanyRef, query: Query[ReportQuery]):
    """Income and expenses by account group with subtotals and the net result."""
    company = company_for(request, company_ref, "ledger.view")
    return report_out(reports.profit_and_loss(company, _range(company, query)))


@router.get("/reports/balance-sheet", response=ReportOut, url_name="report_balance_sheet")
def balance_sheet(request: HttpRequest, company_ref: CompanyRef, query: Query[ReportQuery]):
    """Assets, liabilities and equity (with the year's unallocated result) as of date_to (and compare_to)."""
    company = company_for(request, company_ref, "ledger.view")
    return report_out(reports.balance_sheet(company, _range(company, query, as_of=True)))


@router.get("/reports/cash-flow", response=ReportOut, url_name="report_cash_flow")
def cash_flow(request: HttpRequest, company_ref: CompanyRef, query: Query[ReportQuery]):
    """The cash-flow statement by the indirect method; closing - opening cash = the sum of the sections."""
    company = company_for(request, company_ref, "ledger.view")
    return report_out(reports.cash_flow(company, _range(company, query)))
