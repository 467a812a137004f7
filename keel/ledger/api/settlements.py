"""The ledger API: open items (receivable and payable lines in any currency) and their
settlements, whole or partial (with the realized exchange difference in a foreign currency)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import ApiDate, FilterSchema, InputSchema, RecordId
from keel.core.access import get_visible
from keel.core.exceptions import NotFound
from keel.ledger.models import Settlement
from keel.ledger.services import settlements

router = Router()


class OpenItemOut(Schema):
    id: int
    entry_id: int
    entry_number: str
    date: dt.date
    account: str
    party: int | None
    party_name: str
    label: str
    currency: str
    amount_currency: Decimal
    rate: Decimal
    booked: Decimal = Field(..., description="Debit minus credit in the company's currency.")
    due_date: dt.date | None
    open_amount_currency: Decimal = Field(..., description="What is still open, in the line's currency (signed).")
    open_amount: Decimal = Field(..., description="The booked value of what is still open, in the company's currency.")

    @staticmethod
    def resolve_entry_number(obj) -> str:
        return obj.entry.number

    @staticmethod
    def resolve_account(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_party(obj) -> int | None:
        return obj.party_id

    @staticmethod
    def resolve_party_name(obj) -> str:
        return obj.party.name if obj.party_id else ""

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_booked(obj) -> Decimal:
        return obj.debit - obj.credit


class OpenItemFilter(FilterSchema):
    account: Annotated[str, Field(max_length=20)] | None = Field(None, description="A receivable or payable account code.")
    party: int | None = Field(None, ge=1, le=2**63 - 1)
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None


class AllocationOut(Schema):
    line: int
    amount_currency: Decimal = Field(..., description="The part settled, in the line's currency (signed).")
    amount: Decimal = Field(..., description="Its booked value in the company's currency (signed).")
    closes_line: bool


class SettlementOut(Schema):
    id: int
    date: dt.date
    status: str
    account: str
    party: int | None
    currency: str
    amount_currency: str
    difference: str = Field(..., description="Realized, in the company's currency: positive a gain, negative a loss.")
    entry_id: int | None
    entry_number: str | None
    reversal_id: int | None
    lines: list[int]
    allocations: list[AllocationOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_account(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_party(obj) -> int | None:
        return obj.party_id

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_amount_currency(obj) -> str:
        return f"{obj.amount_currency:.{obj.currency.decimals}f}"

    @staticmethod
    def resolve_difference(obj) -> str:
        return f"{obj.difference:.{obj.company.base_currency.decimals}f}"

    @staticmethod
    def resolve_entry_number(obj) -> str | None:
        return obj.entry.number if obj.entry_id else None

    @staticmethod
    def resolve_lines(obj) -> list[int]:
        return sorted(settled.line_id for settled in obj.settled_lines.all())

    @staticmethod
    def resolve_allocations(obj) -> list[dict]:
        return [{"line": a.line_id, "amount_currency": a.amount_currency, "amount": a.amount,
                 "closes_line": a.closes_line} for a in sorted(obj.settled_lines.all(), key=lambda a: a.line_id)]


class AllocationIn(InputSchema):
    line: int = Field(..., ge=1, le=2**63 - 1)
    amount: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="The part to settle as a decimal string, positive, in the line's currency; "
        "empty: all that is open of it.")


class SettleIn(InputSchema):
    lines: Annotated[list[int], Field(max_length=settlements.MAX_LINES)] = Field(
        default_factory=list, description="Ids of posted lines of one receivable or payable item, settled whole: "
        "what is open of them adds up to zero.")
    allocations: Annotated[list[AllocationIn], Field(max_length=settlements.MAX_LINES)] = Field(
        default_factory=list, description="Or parts of lines: {line, amount}; the amounts add up to zero.")
    date: ApiDate | None = Field(None, description="Empty: the latest line's date.")


class UndoIn(InputSchema):
    date: ApiDate | None = Field(None, description="The reversal's date; empty: the settlement's date.")


def _settlements(company):
    return (settlements.list_settlements(company)
            .select_related("company__base_currency", "currency").prefetch_related("settled_lines"))


def _settlement(request: HttpRequest, company, settlement_id: int) -> Settlement:
    return get_visible(_settlements(company), actor(request), "ledger.view", company=company, pk=settlement_id)


@router.get("/open-items", response=Page[OpenItemOut], url_name="open_item_list")
def list_open_items(request: HttpRequest, company_ref: CompanyRef, filters: Query[OpenItemFilter],
                    page: Query[PageQuery]):
    """Receivable and payable lines in any currency with an amount still open (filter by party for
    a party's open items)."""
    company = company_for(request, company_ref, "ledger.view")
    account = None
    if filters.account:
        account = settlements.settlement_accounts(company).filter(code=filters.account.strip()).first()
        if account is None:
            raise NotFound(f"There is no receivable or payable account '{filters.account}' in {company.code}.",
                           code="account.not_found", field="account")
    lines = settlements.list_open_items(company, account=account, party_id=filters.party, currency=filters.currency)
    result = paginate(lines, page, ordering=("date", "id"))
    result["items"] = settlements.open_amounts(company, result["items"])
    return result


@router.get("/settlements", response=Page[SettlementOut], url_name="settlement_list")
def list_settlements(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(_settlements(company), page, ordering=("-id",))


@router.post("/settlements", response={201: SettlementOut}, url_name="settlement_create")
def create_settlement(request: HttpRequest, company_ref: CompanyRef, payload: SettleIn):
    """Settle lines of one item, whole (`lines`) or in part (`allocations`); in a foreign currency
    the realized exchange difference is posted."""
    company = company_for(request, company_ref, "ledger.post")
    with track(request, company):
        allocations = [{"line": a.line, "amount": a.amount} for a in payload.allocations] + list(payload.lines)
        settlement = settlements.settle_open_items(actor=actor(request), company=company, allocations=allocations,
                                                   date=payload.date)
    return Status(201, _settlement(request, company, settlement.pk))


@router.get("/settlements/{settlement_id}", response=SettlementOut, url_name="settlement_detail")
def get_settlement(request: HttpRequest, company_ref: CompanyRef, settlement_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    return _settlement(request, company, settlement_id)


@router.post("/settlements/{settlement_id}/undo", response=SettlementOut, url_name="settlement_undo")
def undo_settlement(request: HttpRequest, company_ref: CompanyRef, settlement_id: RecordId, payload: UndoIn):
    """Reverse the settlement's difference entry and open its allocated amounts again."""
    company = company_for(request, company_ref, "ledger.post")
    settlement = _settlement(request, company, settlement_id)
    with track(request, company):
        settlements.undo_settlement(actor=actor(request), settlement=settlement, date=payload.date)
    return _settlement(request, company, settlement_id)
