"""The ledger API: aging of receivables and payables, and a party's open items.

GET /api/ledger/aging?kind=receivable|payable&as_of=   per party, five buckets and totals
GET /api/ledger/parties/{party_id}/open-items[?as_of=] a party's open items on a date

Amounts are Decimals (strings in JSON), in the company's currency unless said otherwise.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import ApiDate, FilterSchema, RecordId
from keel.core.access import get_visible
from keel.core.models import Party
from keel.ledger.reports.aging import BUCKET_LABELS, get_aging, open_lines_on, party_open_item_lines

router = Router(tags=["ledger open items"])


class AgingQuery(FilterSchema):
    kind: Literal["receivable", "payable"] = Field("receivable", description="Customers (receivable) or suppliers.")
    as_of: ApiDate | None = Field(None, description="The date; default today.")


class BucketsOut(Schema):
    current: Decimal = Field(..., description="Not yet due, or due on the date.")
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    total: Decimal


class AgingRowOut(BucketsOut):
    party: int | None
    party_name: str


class AgingOut(Schema):
    kind: str
    as_of: dt.date
    currency: str
    buckets: dict[str, str] = Field(..., description="Each bucket's key and label.")
    rows: list[AgingRowOut]
    totals: BucketsOut


class OpenLineOut(Schema):
    id: int
    entry_id: int
    entry_number: str
    date: dt.date
    due: dt.date = Field(..., description="The due date, else the entry date.")
    days_overdue: int
    bucket: str
    account: str
    label: str
    currency: str
    amount_currency: Decimal
    open_amount_currency: Decimal = Field(..., description="Open on the date, in the line's currency (signed).")
    open_amount: Decimal = Field(..., description="Its booked value in the company's currency (signed).")


class PartyOpenItemsQuery(FilterSchema):
    as_of: ApiDate | None = Field(None, description="The date; default today.")


@router.get("/aging", response=AgingOut, url_name="aging")
def aging(request: HttpRequest, company_ref: CompanyRef, query: Query[AgingQuery]):
    """What each customer owes (kind=receivable) or each supplier is owed (kind=payable) on a
    date, per party: current, 1-30, 31-60, 61-90 and over 90 days past the due date."""
    company = company_for(request, company_ref, "ledger.view")
    report = get_aging(company, kind=query.kind, as_of=query.as_of or timezone.localdate())
    return {
        "kind": report.kind, "as_of": report.as_of, "currency": report.currency, "buckets": dict(BUCKET_LABELS),
        "rows": [{"party": row.party_id, "party_name": row.party_name, **row.buckets, "total": row.total}
                 for row in report.rows],
        "totals": {**report.totals, "total": report.total},
    }


@router.get("/parties/{party_id}/open-items", response=Page[OpenLineOut], url_name="party_open_items")
def party_open_items(request: HttpRequest, company_ref: CompanyRef, party_id: RecordId,
                     query: Query[PartyOpenItemsQuery], page: Query[PageQuery]):
    """The party's open receivable and payable items on a date, by entry date (pages of lines)."""
    company = company_for(request, company_ref, "ledger.view")
    party = get_visible(Party.objects.all(), actor(request), "ledger.view", company=company, pk=party_id)
    as_of = query.as_of or timezone.localdate()
    lines = party_open_item_lines(company, party.pk, as_of).select_related("entry", "account")
    result = paginate(lines, page, ordering=("date", "id"))
    result["items"] = [
        {"id": item.line.pk, "entry_id": item.line.entry_id, "entry_number": item.line.entry.number,
         "date": item.line.date, "due": item.due, "days_overdue": item.days_overdue, "bucket": item.bucket,
         "account": item.line.account.code, "label": item.line.label, "currency": item.line.currency_id,
         "amount_currency": item.line.amount_currency, "open_amount_currency": item.open_amount_currency,
         "open_amount": item.open_amount} for item in open_lines_on(company, result["items"], as_of)]
    return result
