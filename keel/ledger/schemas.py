"""The ledger's API schemas: books (chart, journals, periods, entries, trial balance).

Amounts travel as strings ("1234.50"): JSON numbers are floats in most clients, and money
is never a float. Inputs accept a string or an integer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from keel.api.schemas import ApiDate, FilterSchema, InputSchema
from keel.ledger.choices import AccountRole, AccountType, CashFlowCategory, EntryStatus

# An amount in input: a decimal string (or an integer); the posting service checks decimals.
AmountIn = Annotated[str, Field(max_length=40, pattern=r"^-?\d{1,20}(\.\d{1,10})?$")] | int
Code = Annotated[str, Field(min_length=1, max_length=20)]


CENT = Decimal("0.01")


def _money(value: Decimal | None) -> str | None:
    """'100.00', '0.125': at least two decimals, no trailing zeros beyond them."""
    if value is None:
        return None
    value = value.normalize()
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(CENT)
    return format(value, "f")


class LineIn(InputSchema):
    account: Code | int = Field(..., description="The account's code (or id).")
    debit: AmountIn | None = None
    credit: AmountIn | None = None
    label: Annotated[str, Field(max_length=200)] = ""
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    amount_currency: AmountIn | None = None
    rate: AmountIn | None = None
    party: int | None = Field(None, ge=1, le=2**63 - 1, description="The party's id.")
    tax_code: Code | None = None
    tax_role: Literal["base", "tax"] | None = Field(
        None, description="With tax_code: the base the tax was computed on, or the tax itself. Empty: tax on "
                          "the code's tax account, base anywhere else.")
    due_date: ApiDate | None = None
    cost_centre: Code | None = None

    def as_line(self) -> dict:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class EntryIn(InputSchema):
    journal: Annotated[str, Field(min_length=1, max_length=10)]
    date: ApiDate
    reference: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=500)] = ""
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]
    post: bool = Field(False, description="Post at once (else a draft is saved).")


class EntryPatchIn(InputSchema):
    journal: Annotated[str, Field(min_length=1, max_length=10)] | None = None
    date: ApiDate | None = None
    reference: Annotated[str, Field(max_length=100)] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)] | None = None


class ReverseIn(InputSchema):
    date: ApiDate
    description: Annotated[str, Field(max_length=500)] = ""


class LineOut(Schema):
    id: int
    position: int
    account: str
    account_name: str
    label: str
    debit: str
    credit: str
    currency: str
    amount_currency: str
    rate: str
    party: int | None
    tax_code: str | None
    tax_role: str
    due_date: dt.date | None
    cost_centre: str | None

    @staticmethod
    def resolve_account(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_account_name(obj) -> str:
        return obj.account.name

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.currency_id

    @staticmethod
    def resolve_party(obj) -> int | None:
        return obj.party_id

    @staticmethod
    def resolve_tax_code(obj) -> str | None:
        return obj.tax_code.code if obj.tax_code_id else None

    @staticmethod
    def resolve_cost_centre(obj) -> str | None:
        return obj.cost_centre.code if obj.cost_centre_id else None

    @staticmethod
    def resolve_debit(obj) -> str:
        return _money(obj.debit)

    @staticmethod
    def resolve_credit(obj) -> str:
        return _money(obj.credit)

    @staticmethod
    def resolve_amount_currency(obj) -> str:
        return _money(obj.amount_currency)

    @staticmethod
    def resolve_rate(obj) -> str:
        return format(obj.rate.normalize(), "f")


class EntrySummaryOut(Schema):
    id: int
    journal: str
    number: str
    date: dt.date
    period: str | None
    reference: str
    description: str
    status: str
    reversal_of: int | None
    source_type: str
    source_id: str
    purpose: str
    posted_at: dt.datetime | None

    @staticmethod
    def resolve_journal(obj) -> str:
        return obj.journal.code

    @staticmethod
    def resolve_period(obj) -> str | None:
        return obj.period.name if obj.period_id else None

    @staticmethod
    def resolve_reversal_of(obj) -> int | None:
        return obj.reversal_of_id


class EntryOut(EntrySummaryOut):
    reversed_by: int | None
    total_debit: str
    total_credit: str
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_reversed_by(obj) -> int | None:
        reversal = obj.reversals.first()
        return reversal.pk if reversal else None

    @staticmethod
    def resolve_total_debit(obj) -> str:
        return _money(sum((line.debit for line in obj.lines.all()), Decimal(0)))

    @staticmethod
    def resolve_total_credit(obj) -> str:
        return _money(sum((line.credit for line in obj.lines.all()), Decimal(0)))


class EntryFilters(FilterSchema):
    journal: Annotated[str, Field(max_length=10)] | None = None
    status: Literal[EntryStatus.DRAFT, EntryStatus.POSTED, EntryStatus.REVERSED] | None = None  # type: ignore[valid-type]
    date_from: ApiDate | None = None
    date_to: ApiDate | None = None
    account: Annotated[str, Field(max_length=20)] | None = Field(None, description="Entries with a line on this account code.")
    q: Annotated[str, Field(max_length=100)] | None = Field(None, description="Search the number and reference.")


class AccountOut(Schema):
    id: int
    code: str
    name: str
    account_type: str
    role: str
    group: str | None
    currency: str | None
    description: str
    cash_flow: str = Field(description="The account's own cash-flow section; empty: its group's.")
    is_active: bool

    @staticmethod
    def resolve_group(obj) -> str | None:
        return obj.group.code if obj.group_id else None

    @staticmethod
    def resolve_currency(obj) -> str | None:
        return obj.currency_id


AccountTypeIn = Literal[tuple(AccountType.values)]  # type: ignore[valid-type]
AccountRoleIn = Literal[tuple(AccountRole.values)]  # type: ignore[valid-type]
CashFlowIn = Literal[("", *CashFlowCategory.values)]  # type: ignore[valid-type]


class AccountIn(InputSchema):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    account_type: AccountTypeIn
    role: AccountRoleIn = ""
    group: Code | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    description: Annotated[str, Field(max_length=2000)] = ""
    cash_flow: CashFlowIn = Field("", description="Its own cash-flow section; empty: its group's.")


class AccountPatchIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    role: AccountRoleIn | None = None
    group: Code | None = Field(None, description="The group's code; an empty string removes the group.")
    description: Annotated[str, Field(max_length=2000)] | None = None
    cash_flow: CashFlowIn | None = Field(None, description="Its own cash-flow section; an empty string: its group's.")
    is_active: bool | None = None


class AccountGroupOut(Schema):
    id: int
    code: str
    name: str
    parent: str | None = Field(description="The parent group's code.")
    position: int
    cash_flow: str = Field(description="operating, non_cash, investing or financing; empty: as the parent group.")
    effective_cash_flow: str = Field(description="The section its accounts get (its own, or the nearest "
                                                 "classified parent's, else operating).")

    @staticmethod
    def resolve_parent(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


class AccountGroupPatchIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    cash_flow: CashFlowIn | None = Field(None, description="The cash-flow section; an empty string: as the parent "
                                                           "group.")


class AccountFilters(FilterSchema):
    account_type: AccountTypeIn | None = None
    active: bool | None = None
    q: Annotated[str, Field(max_length=100)] | None = None


class JournalOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    is_active: bool


class CostCentreOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class CostCentreIn(InputSchema):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]


class CostCentrePatchIn(InputSchema):
    is_active: bool = Field(..., description="False: posting refuses the cost centre; its history stays.")


class PeriodOut(Schema):
    id: int
    name: str
    fiscal_year: int
    start: dt.date
    end: dt.date
    status: str

    @staticmethod
    def resolve_fiscal_year(obj) -> int:
        return obj.fiscal_year.year


class PeriodFilters(FilterSchema):
    fiscal_year: int | None = Field(None, ge=1900, le=2999)
    status: Literal["open", "closed", "locked"] | None = None


class ReopenIn(InputSchema):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class FiscalYearIn(InputSchema):
    year: int = Field(..., ge=1900, le=2999)


class FiscalYearOut(Schema):
    id: int
    year: int
    start: dt.date
    end: dt.date
    status: str


class FiscalYearClosedOut(Schema):
    fiscal_year: FiscalYearOut
    entry: EntrySummaryOut | None
    result: str
    periods_closed: int


class ClosingLineOut(Schema):
    account: str
    account_name: str
    label: str
    debit: str
    credit: str


class RefusalOut(Schema):
    code: str
    message: str


class ClosingPreviewOut(Schema):
    """The closing entry a year-end close would post now, and why it would be refused."""

    fiscal_year: FiscalYearOut
    journal: str | None
    lines: list[ClosingLineOut]
    result: str
    can_close: bool
    refusals: list[RefusalOut]


class FiscalYearReopenedOut(Schema):
    fiscal_year: FiscalYearOut
    reversal: EntrySummaryOut | None
    reason: str


class TrialBalanceRowOut(Schema):
    # null on the row of earlier years' results not yet closed, which is no account's.
    account_id: int | None
    code: str
    name: str
    account_type: str
    opening: str
    debit: str
    credit: str
    closing: str
    # The comparison range's figures and closing minus the comparison's closing (null without one).
    compare_opening: str | None = None
    compare_debit: str | None = None
    compare_credit: str | None = None
    compare_closing: str | None = None
    variance: str | None = None


class TrialBalanceOut(Schema):
    date_from: dt.date
    date_to: dt.date
    compare_from: dt.date | None = None
    compare_to: dt.date | None = None
    cost_centre: str | None = None
    currency: str
    rows: list[TrialBalanceRowOut]
    total_debit: str
    total_credit: str
    total_opening: str = Field(description="Sum of the opening column, earlier years' results included: zero "
                                           "when the books balance.")
    total_closing: str
    is_balanced: bool | None = Field(
        description="Debits equal credits and the opening column adds up to zero; null with a cost centre "
                    "(a slice of entries need not balance).")
    compare_total_debit: str | None = None
    compare_total_credit: str | None = None
    compare_total_opening: str | None = None
    compare_total_closing: str | None = None
    compare_is_balanced: bool | None = None


class TrialBalanceQuery(FilterSchema):
    """The range, an optional comparison range (both ends) and cost centre, as the statements take them."""

    date_from: ApiDate
    date_to: ApiDate
    compare_from: ApiDate | None = None
    compare_to: ApiDate | None = None
    cost_centre: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="A cost centre's code (or id): only its lines count.")


def trial_balance_out(report) -> dict:
    """A `keel.ledger.reports.trial_balance.TrialBalanceReport` for the API and the CLI's JSON."""
    period = report.range
    return {
        "date_from": period.date_from, "date_to": period.date_to, "compare_from": period.compare_from,
        "compare_to": period.compare_to, "cost_centre": period.cost_centre.code if period.cost_centre else None,
        "currency": report.currency,
        "rows": [{"account_id": r.account_id, "code": r.code, "name": r.name, "account_type": r.account_type,
                  "opening": _money(r.opening), "debit": _money(r.debit), "credit": _money(r.credit),
                  "closing": _money(r.closing), "compare_opening": _money(r.compare_opening),
                  "compare_debit": _money(r.compare_debit), "compare_credit": _money(r.compare_credit),
                  "compare_closing": _money(r.compare_closing), "variance": _money(r.variance)}
                 for r in report.rows],
        "total_debit": _money(report.total_debit), "total_credit": _money(report.total_credit),
        "total_opening": _money(report.total_opening), "total_closing": _money(report.total_closing),
        "is_balanced": report.is_balanced, "compare_total_debit": _money(report.compare_total_debit),
        "compare_total_credit": _money(report.compare_total_credit), "compare_is_balanced": report.compare_is_balanced,
        "compare_total_opening": _money(report.compare_total_opening),
        "compare_total_closing": _money(report.compare_total_closing),
    }
