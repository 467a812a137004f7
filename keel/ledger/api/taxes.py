"""The ledger API: tax codes, the tax computation, the tax return (boxes, filing frequency,
filed returns) and revaluations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from keel.api.auth import actor
from keel.api.context import CompanyRef, company_for, track
from keel.api.pagination import Page, PageQuery, paginate
from keel.api.schemas import ApiDate, FilterSchema, InputSchema, RecordId
from keel.core.access import get_visible
from keel.core.exceptions import ValidationFailed
from keel.core.money import round_amount
from keel.ledger.choices import TaxKind, TaxRounding
from keel.ledger.models import Revaluation, TaxBox, TaxCode, TaxCodeComponent, TaxReturn
from keel.ledger.services import revaluation as revaluations
from keel.ledger.services import taxes
from keel.ledger.tax_reports import get_tax_return

router = Router()

Text20 = Annotated[str, Field(max_length=20)]
# Amounts travel as strings (or numbers): the services parse and check their decimals.
AmountIn = Annotated[str | int | float, Field(union_mode="left_to_right")]


# -- schemas -------------------------------------------------------------------------------


Components = Annotated[list[Text20], Field(max_length=taxes.MAX_COMPONENTS)]


class TaxCodeOut(Schema):
    id: int
    code: str
    name: str
    rate: Decimal = Field(description="Percent; 0 for a group (its components' rates apply).")
    kind: str
    price_included: bool
    account: str | None
    base_box: str
    tax_box: str
    is_active: bool
    is_group: bool
    components: list[str] = Field(description="A group's component codes, in order; empty for a plain code.")

    @staticmethod
    def resolve_account(obj) -> str | None:
        return obj.account.code if obj.account_id else None

    @staticmethod
    def resolve_components(obj) -> list[str]:
        return [link.component.code for link in obj.component_links.all()] if obj.is_group else []


class TaxCodeCreateIn(InputSchema):
    code: Annotated[str, Field(min_length=1, max_length=20)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    rate: AmountIn | None = Field(None, description="Percent; required for a plain code, none for a group.")
    kind: Literal["sales", "purchase"] = TaxKind.SALES.value
    price_included: bool = False
    account: Annotated[str, Field(max_length=20)] | None = Field(None, description="An account code; none: the role account.")
    base_box: Text20 = ""
    tax_box: Text20 = ""
    components: Components = Field([], description="Tax codes of a group (e.g. GST and QST); empty: a plain code.")


class TaxCodeUpdateIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    rate: AmountIn | None = None
    price_included: bool | None = None
    account: Annotated[str, Field(max_length=20)] | None = None
    base_box: Text20 | None = None
    tax_box: Text20 | None = None
    is_active: bool | None = None
    components: Components | None = Field(None, description="A group's components (until lines refer to it).")


class TaxCodeFilters(FilterSchema):
    kind: Literal["sales", "purchase"] | None = None
    active: Literal["yes", "no", "all"] = "all"


class ComputeLineIn(InputSchema):
    amount: AmountIn | None = Field(None, description="Net for price-excluded codes, gross for price-included ones.")
    quantity: AmountIn | None = None
    unit_price: AmountIn | None = None
    tax_codes: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []


class ComputeIn(InputSchema):
    kind: Literal["sales", "purchase"] = Field(
        description="The document's kind: sales (an invoice) or purchase (a bill); its codes are of that kind.")
    lines: Annotated[list[ComputeLineIn], Field(min_length=1, max_length=1000)]
    rounding: Literal["line", "document"] = TaxRounding.LINE.value
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = Field(
        None, description="The document's currency (its decimals round the taxes); empty: the company's.")


class LineTaxOut(Schema):
    tax_code: str
    group: str | None = Field(None, description="The group the line named, when this tax is one of its components.")
    base: Decimal
    tax: Decimal


class ComputedLineOut(Schema):
    index: int
    net: Decimal
    tax: Decimal
    gross: Decimal
    taxes: list[LineTaxOut]


class TaxTotalOut(Schema):
    tax_code: str
    rate: Decimal
    base: Decimal
    tax: Decimal


class ComputationOut(Schema):
    currency: str
    rounding: str
    kind: str
    lines: list[ComputedLineOut]
    totals: list[TaxTotalOut]
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal


class BoxPartOut(Schema):
    tax_code: str
    role: str
    amount: Decimal


class BoxOut(Schema):
    box: str
    name: str = Field(description="The box's name (TaxBox); empty when the company has not named it.")
    is_total: bool = Field(description="A total of other boxes (total_of, e.g. 3-4), not filled by codes.")
    amount: Decimal
    parts: list[BoxPartOut]


class CodeFigureOut(Schema):
    tax_code: str
    kind: str
    base: Decimal
    tax: Decimal


class TaxReturnOut(Schema):
    date_from: dt.date
    date_to: dt.date
    currency: str
    boxes: list[BoxOut]
    codes: list[CodeFigureOut]
    net_payable: Decimal = Field(description="Tax collected minus tax deductible; negative: to reclaim.")
    filed_return_id: int | None = Field(description="The return filed for exactly this period, if any.")


class TaxReturnFileIn(InputSchema):
    date_from: ApiDate
    date_to: ApiDate


class FiledBoxOut(Schema):
    box: str
    name: str
    is_total: bool
    filed: Decimal
    current: Decimal = Field(description="What the ledger says now, with the codes' boxes as filed.")
    difference: Decimal = Field(description="current - filed: the correction to file.")


class FiledLineOut(Schema):
    box: str
    tax_code: str
    role: str
    amount: Decimal


class FiledCodeOut(Schema):
    code: str
    name: str
    kind: str
    base: Decimal
    tax: Decimal


class FiledReturnOut(Schema):
    id: int
    date_from: dt.date
    date_to: dt.date
    currency: str
    net_payable: Decimal
    filed_at: dt.datetime
    filed_by: str | None

    @staticmethod
    def resolve_net_payable(obj) -> Decimal:
        if isinstance(obj, dict):
            return obj["net_payable"]
        return round_amount(obj.net_payable, obj.currency)

    @staticmethod
    def resolve_filed_by(obj) -> str | None:
        if isinstance(obj, dict):  # the detail, built by _filed_detail
            return obj["filed_by"]
        return obj.filed_by.email if obj.filed_by_id else None


class FiledReturnDetailOut(FiledReturnOut):
    boxes: list[FiledBoxOut]
    lines: list[FiledLineOut]
    codes: list[FiledCodeOut]
    current_net_payable: Decimal
    net_payable_difference: Decimal
    has_difference: bool


class TaxSettingsOut(Schema):
    filing_frequency: Literal["monthly", "quarterly"]
    period_to_file: list[dt.date] = Field(description="The latest month or quarter that has ended: [from, to].")


class TaxSettingsIn(InputSchema):
    filing_frequency: Literal["monthly", "quarterly"]


class TaxBoxOut(Schema):
    box: str
    name: str
    total_of: str


class TaxBoxIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    total_of: Annotated[str, Field(max_length=200)] = Field("", description='A total of earlier boxes, e.g. "3-4".')


class TaxReturnQuery(FilterSchema):
    date_from: ApiDate
    date_to: ApiDate


class RevaluationOut(Schema):
    id: int
    period_end: dt.date
    status: str
    entry_id: int
    entry_number: str
    reversal_id: int
    reversal_number: str
    gain: Decimal
    loss: Decimal
    created_at: dt.datetime

    @staticmethod
    def resolve_entry_number(obj) -> str:
        return obj.entry.number

    @staticmethod
    def resolve_reversal_number(obj) -> str:
        return obj.reversal.number


class RevaluationRowOut(Schema):
    account: str
    party_id: int | None
    party: str
    currency: str
    amount_currency: Decimal
    booked: Decimal
    rate: Decimal
    revalued: Decimal
    difference: Decimal


class RevaluationPreviewOut(Schema):
    period_end: dt.date
    currency: str
    rows: list[RevaluationRowOut]
    gain: Decimal
    loss: Decimal
    already_revalued: bool


class RevaluationPreviewQuery(FilterSchema):
    period_end: ApiDate


class RevaluationCreateIn(InputSchema):
    period_end: ApiDate


# -- tax codes -----------------------------------------------------------------------------

_COMPONENTS = Prefetch("component_links", queryset=TaxCodeComponent.objects.select_related("component"))


def _tax_code(request: HttpRequest, company, tax_code_id: int, permission: str) -> TaxCode:
    return get_visible(TaxCode.objects.select_related("account", "company").prefetch_related(_COMPONENTS),
                       actor(request), permission, company=company, pk=tax_code_id)


@router.get("/tax-codes", response=Page[TaxCodeOut], url_name="tax_code_list")
def list_tax_codes(request: HttpRequest, company_ref: CompanyRef, filters: Query[TaxCodeFilters],
                   page: Query[PageQuery]):
    company = company_for(request, company_ref, "tax.view")
    codes = TaxCode.objects.for_company(company).select_related("account").prefetch_related(_COMPONENTS)
    if filters.kind:
        codes = codes.filter(kind=filters.kind)
    if filters.active != "all":
        codes = codes.filter(is_active=filters.active == "yes")
    return paginate(codes, page, ordering=("code", "id"))


@router.post("/tax-codes", response={201: TaxCodeOut}, url_name="tax_code_create")
def create_tax_code(request: HttpRequest, company_ref: CompanyRef, payload: TaxCodeCreateIn):
    """Add a tax code; without `account` its tax posts to the chart's role account."""
    company = company_for(request, company_ref, "tax.manage")
    with track(request, company):
        tax_code = taxes.create_tax_code(actor=actor(request), company=company, **payload.dict())
    return Status(201, _tax_code(request, company, tax_code.pk, "tax.view"))


@router.get("/tax-codes/{tax_code_id}", response=TaxCodeOut, url_name="tax_code_detail")
def get_tax_code(request: HttpRequest, company_ref: CompanyRef, tax_code_id: RecordId):
    company = company_for(request, company_ref, "tax.view")
    return _tax_code(request, company, tax_code_id, "tax.view")


@router.patch("/tax-codes/{tax_code_id}", response=TaxCodeOut, url_name="tax_code_update")
def update_tax_code(request: HttpRequest, company_ref: CompanyRef, tax_code_id: RecordId, payload: TaxCodeUpdateIn):
    """Change a tax code (its code and kind stay); `is_active: false` deactivates it."""
    company = company_for(request, company_ref, "tax.manage")
    tax_code = _tax_code(request, company, tax_code_id, "tax.manage")
    changes = payload.dict(exclude_unset=True)
    for name in ("name", "rate", "price_included", "is_active", "base_box", "tax_box", "components"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(f"{name} cannot be null.", code="tax_code.invalid", field=name)
    with track(request, company):
        taxes.update_tax_code(actor=actor(request), tax_code=tax_code, **changes)
    return _tax_code(request, company, tax_code_id, "tax.view")


# -- computation and return ----------------------------------------------------------------


@router.post("/taxes/compute", response=ComputationOut, url_name="tax_compute")
def compute_taxes(request: HttpRequest, company_ref: CompanyRef, payload: ComputeIn):
    """Tax a document's lines (nothing is saved): per line net/tax/gross, per code, totals."""
    company = company_for(request, company_ref, "tax.view")
    with track(request, company):
        computation = taxes.compute_taxes(
            company=company, kind=payload.kind, rounding=payload.rounding, currency=payload.currency,
            lines=[taxes.DocumentLine(amount=line.amount, quantity=line.quantity, unit_price=line.unit_price,
                                      tax_codes=line.tax_codes) for line in payload.lines],
        )
    return {
        "currency": computation.currency, "rounding": computation.rounding, "kind": computation.kind,
        "lines": [{"index": line.index, "net": line.net, "tax": line.tax, "gross": line.gross,
                   "taxes": [{"tax_code": t.tax_code.code, "group": t.group.code if t.group else None, "base": t.base,
                              "tax": t.tax} for t in line.taxes]}
                  for line in computation.lines],
        "totals": [{"tax_code": t.tax_code.code, "rate": t.tax_code.rate, "base": t.base, "tax": t.tax}
                   for t in computation.totals],
        "net_total": computation.net_total, "tax_total": computation.tax_total,
        "gross_total": computation.gross_total,
    }


@router.get("/tax-return", response=TaxReturnOut, url_name="tax_return")
def tax_return(request: HttpRequest, company_ref: CompanyRef, query: Query[TaxReturnQuery]):
    """Base and tax per return box and per tax code, from the lines posted in the range."""
    company = company_for(request, company_ref, "tax.view")
    report = get_tax_return(company, query.date_from, query.date_to)
    filed = taxes.find_tax_return(company, query.date_from, query.date_to)
    return {
        "date_from": report.date_from, "date_to": report.date_to, "currency": report.currency,
        "net_payable": report.net_payable, "filed_return_id": filed.pk if filed else None,
        "boxes": [{"box": b.box, "name": b.name, "is_total": b.is_total, "amount": b.amount,
                   "parts": [{"tax_code": p.tax_code.code, "role": p.role, "amount": p.amount} for p in b.parts]}
                  for b in report.boxes],
        "codes": [{"tax_code": f.tax_code.code, "kind": f.tax_code.kind, "base": f.base, "tax": f.tax}
                  for f in report.codes],
    }


def _filed_detail(tax_return: TaxReturn) -> dict:
    comparison = taxes.compare_with_ledger(tax_return)
    return {
        "id": tax_return.pk, "date_from": tax_return.date_from, "date_to": tax_return.date_to,
        "currency": tax_return.currency, "net_payable": comparison.filed_net_payable, "filed_at": tax_return.filed_at,
        "filed_by": tax_return.filed_by.email if tax_return.filed_by_id else None,
        "boxes": [{"box": b.box, "name": b.name, "is_total": b.is_total, "filed": b.filed, "current": b.current,
                   "difference": b.difference} for b in comparison.boxes],
        "lines": [{"box": line.box, "tax_code": line.tax_code.code, "role": line.role,
                   "amount": round_amount(line.amount, tax_return.currency)}
                  for line in tax_return.lines.select_related("tax_code")],
        "codes": tax_return.code_figures,
        "current_net_payable": comparison.current.net_payable,
        "net_payable_difference": comparison.net_payable_difference, "has_difference": comparison.has_difference,
    }


def _filed(request: HttpRequest, company, tax_return_id: int) -> TaxReturn:
    return get_visible(TaxReturn.objects.select_related("company", "filed_by"), actor(request), "tax.view",
                       company=company, pk=tax_return_id)


@router.post("/tax-returns", response={200: FiledReturnDetailOut, 201: FiledReturnDetailOut},
             url_name="tax_return_file")
def file_tax_return(request: HttpRequest, company_ref: CompanyRef, payload: TaxReturnFileIn):
    """File the return of a period that has ended (201); a period filed already gives back its
    return as filed (200). A range overlapping another filed return is refused."""
    company = company_for(request, company_ref, "tax.file")
    with track(request, company):
        tax_return, created = taxes.file_tax_return(actor=actor(request), company=company,
                                                    date_from=payload.date_from, date_to=payload.date_to)
    return Status(201 if created else 200, _filed_detail(_filed(request, company, tax_return.pk)))


@router.get("/tax-returns", response=Page[FiledReturnOut], url_name="tax_return_list")
def list_tax_returns(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "tax.view")
    return paginate(taxes.list_tax_returns(company), page, ordering=("-date_from", "-id"))


@router.get("/tax-returns/{tax_return_id}", response=FiledReturnDetailOut, url_name="tax_return_detail")
def get_filed_tax_return(request: HttpRequest, company_ref: CompanyRef, tax_return_id: RecordId):
    """A filed return as filed, next to what the ledger says now for its period (the difference to file)."""
    company = company_for(request, company_ref, "tax.view")
    return _filed_detail(_filed(request, company, tax_return_id))


def _settings(company) -> dict:
    return {"filing_frequency": taxes.get_filing_frequency(company), "period_to_file": list(taxes.period_to_file(company))}


@router.get("/tax-settings", response=TaxSettingsOut, url_name="tax_settings")
def get_tax_settings(request: HttpRequest, company_ref: CompanyRef):
    company = company_for(request, company_ref, "tax.view")
    return _settings(company)


@router.put("/tax-settings", response=TaxSettingsOut, url_name="tax_settings_update")
def update_tax_settings(request: HttpRequest, company_ref: CompanyRef, payload: TaxSettingsIn):
    """Set the filing frequency (monthly or quarterly)."""
    company = company_for(request, company_ref, "tax.manage")
    with track(request, company):
        taxes.set_filing_frequency(actor=actor(request), company=company, frequency=payload.filing_frequency)
    return _settings(company)


@router.get("/tax-boxes", response=list[TaxBoxOut], url_name="tax_box_list")
def list_tax_boxes(request: HttpRequest, company_ref: CompanyRef):
    """The return's named boxes (a handful per company: not paginated)."""
    company = company_for(request, company_ref, "tax.view")
    from keel.ledger.tax_reports import box_order

    return sorted(TaxBox.objects.for_company(company), key=lambda b: box_order(b.box))


@router.put("/tax-boxes/{box}", response=TaxBoxOut, url_name="tax_box_set")
def set_tax_box(request: HttpRequest, company_ref: CompanyRef, box: Annotated[str, Field(max_length=20)],
                payload: TaxBoxIn):
    """Name a box (created when new) or make it a total of earlier boxes; filed returns keep their names."""
    company = company_for(request, company_ref, "tax.manage")
    with track(request, company):
        return taxes.set_tax_box(actor=actor(request), company=company, box=box, name=payload.name,
                                 total_of=payload.total_of)


# -- revaluations --------------------------------------------------------------------------


@router.get("/revaluations", response=Page[RevaluationOut], url_name="revaluation_list")
def list_revaluations(request: HttpRequest, company_ref: CompanyRef, page: Query[PageQuery]):
    company = company_for(request, company_ref, "ledger.view")
    return paginate(revaluations.list_revaluations(company), page, ordering=("-id",))


@router.get("/revaluations/preview", response=RevaluationPreviewOut, url_name="revaluation_preview")
def preview_revaluation(request: HttpRequest, company_ref: CompanyRef, query: Query[RevaluationPreviewQuery]):
    """What revaluing at a period end would post (nothing is posted)."""
    company = company_for(request, company_ref, "ledger.view")
    preview = revaluations.preview_revaluation(company=company, period_end=query.period_end)
    return {
        "period_end": preview.period_end, "currency": preview.currency, "gain": preview.gain, "loss": preview.loss,
        "already_revalued": preview.existing is not None,
        "rows": [{"account": r.account_code, "party_id": r.party_id, "party": r.party_name, "currency": r.currency,
                  "amount_currency": r.amount_currency, "booked": r.booked, "rate": r.rate, "revalued": r.revalued,
                  "difference": r.difference} for r in preview.rows],
    }


def _revaluation(request: HttpRequest, company, revaluation_id: int) -> Revaluation:
    return get_visible(Revaluation.objects.select_related("entry", "reversal", "company"), actor(request),
                       "ledger.view", company=company, pk=revaluation_id)


@router.post("/revaluations", response={201: RevaluationOut}, url_name="revaluation_create")
def create_revaluation(request: HttpRequest, company_ref: CompanyRef, payload: RevaluationCreateIn):
    """Post the unrealized exchange differences at a period end, and their reversal next day."""
    company = company_for(request, company_ref, "ledger.post")
    with track(request, company):
        revaluation = revaluations.post_revaluation(actor=actor(request), company=company,
                                                    period_end=payload.period_end)
    return Status(201, _revaluation(request, company, revaluation.pk))


@router.get("/revaluations/{revaluation_id}", response=RevaluationOut, url_name="revaluation_detail")
def get_revaluation(request: HttpRequest, company_ref: CompanyRef, revaluation_id: RecordId):
    company = company_for(request, company_ref, "ledger.view")
    return _revaluation(request, company, revaluation_id)


@router.post("/revaluations/{revaluation_id}/undo", response=RevaluationOut, url_name="revaluation_undo")
def undo_revaluation(request: HttpRequest, company_ref: CompanyRef, revaluation_id: RecordId):
    """Cancel a revaluation (both its entry and its reversal), so the period end can be revalued again."""
    company = company_for(request, company_ref, "ledger.post")
    revaluation = _revaluation(request, company, revaluation_id)
    with track(request, company):
        revaluations.undo_revaluation(actor=actor(request), revaluation=revaluation)
    return _revaluation(request, company, revaluation_id)
