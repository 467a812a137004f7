"""The tax return: base and tax per return box for a date range, from posted lines.

Posted lines carry the tax code they were taxed with and their tax role (`base` or
`tax`); a code names the box its base fills and the box its tax fills. Figures are
positive in the code's natural direction: for sales codes credit - debit (what was sold
and the tax collected), for purchase codes debit - credit (what was bought and the tax
deductible); credit notes and reversals reduce them. One aggregate query per report.

A tax group (e.g. GST+QST) has no boxes of its own: its base lines count under each of its
components (per code) and in each box a component names for its base, once per box (one
sale is one base, however many of its taxes share a box); its components' tax lines carry
the components' own codes. A base box's figure is always the sum of the lines behind it
(list_box_lines).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet

from keel.core.db_money import MoneySum
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import round_amount
from keel.ledger.choices import TaxKind, TaxRole
from keel.ledger.models import Line, TaxCode, TaxCodeComponent

ZERO = Decimal(0)


@dataclass
class BoxPart:
    """What one tax code (a group, for its base) and role put into a box."""

    tax_code: TaxCode
    role: str
    amount: Decimal


@dataclass
class BoxFigure:
    box: str
    amount: Decimal = ZERO
    parts: list[BoxPart] = field(default_factory=list)


@dataclass
class CodeFigure:
    tax_code: TaxCode
    base: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass
class TaxReturn:
    date_from: dt.date
    date_to: dt.date
    currency: str
    boxes: list[BoxFigure] = field(default_factory=list)
    codes: list[CodeFigure] = field(default_factory=list)

    def box(self, name: str) -> Decimal:
        """The figure of one box (zero when nothing was posted to it)."""
        return next((b.amount for b in self.boxes if b.box == name), ZERO)


def _box_order(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _check_range(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise ValidationFailed("The range ends before it starts.", code="report.invalid_range", field="date_to")


def _taxed_lines(company: Company, date_from: dt.date, date_to: dt.date) -> QuerySet[Line]:
    return (Line.objects.for_company(company)
            .filter(date__gte=date_from, date__lte=date_to, tax_code__isnull=False,
                    tax_role__in=[TaxRole.BASE, TaxRole.TAX])
            .posted())


def _group_components(company: Company, codes: dict[int, TaxCode]) -> dict[int, list[TaxCode]]:
    """Each group's components (from `codes`, the company's codes by id), in order."""
    components: dict[int, list[TaxCode]] = {}
    if any(code.is_group for code in codes.values()):
        links = (TaxCodeComponent.objects.for_company(company).order_by("group_id", "position", "id")
                 .values_list("group_id", "component_id"))
        for group_id, component_id in links:
            components.setdefault(group_id, []).append(codes[component_id])
    return components


def get_tax_return(company: Company, date_from: dt.date, date_to: dt.date) -> TaxReturn:
    """Base and tax per box and per tax code of the lines posted from `date_from` to `date_to`."""
    _check_range(date_from, date_to)
    sums = (_taxed_lines(company, date_from, date_to)
            .values("tax_code_id", "tax_role")
            .annotate(debit=MoneySum("debit"), credit=MoneySum("credit"))
            .order_by())
    codes = {t.pk: t for t in TaxCode.objects.for_company(company)}
    components = _group_components(company, codes)
    report = TaxReturn(date_from=date_from, date_to=date_to, currency=company.base_currency_id)
    per_code: dict[int, CodeFigure] = {}
    boxes: dict[str, BoxFigure] = {}
    for tax_code in codes.values():  # every box a code names is on the return, even when empty
        for name in (tax_code.base_box, tax_code.tax_box):
            if name and tax_code.is_active:
                boxes.setdefault(name, BoxFigure(name))
    for row in sums:
        tax_code = codes[row["tax_code_id"]]
        debit, credit = row["debit"] or ZERO, row["credit"] or ZERO
        amount = round_amount(credit - debit if tax_code.kind == TaxKind.SALES else debit - credit, report.currency)
        if tax_code.is_group and row["tax_role"] == TaxRole.BASE:
            parts = components.get(tax_code.pk, [])
            for component in parts:
                per_code.setdefault(component.pk, CodeFigure(component)).base += amount
            for box_name in dict.fromkeys(component.base_box for component in parts if component.base_box):
                box = boxes.setdefault(box_name, BoxFigure(box_name))
                box.amount += amount
                box.parts.append(BoxPart(tax_code, row["tax_role"], amount))
            continue
        # A plain code (posting refuses a group's code on a tax line).
        figure = per_code.setdefault(tax_code.pk, CodeFigure(tax_code))
        if row["tax_role"] == TaxRole.BASE:
            figure.base += amount
            box_name = tax_code.base_box
        else:
            figure.tax += amount
            box_name = tax_code.tax_box
        if box_name:
            box = boxes.setdefault(box_name, BoxFigure(box_name))
            box.amount += amount
            box.parts.append(BoxPart(tax_code, row["tax_role"], amount))
    for box in boxes.values():
        box.parts.sort(key=lambda p: (p.tax_code.code, p.role))
    report.boxes = sorted(boxes.values(), key=lambda b: _box_order(b.box))
    report.codes = sorted(per_code.values(), key=lambda f: f.tax_code.code)
    return report


def list_box_lines(company: Company, box: str, date_from: dt.date, date_to: dt.date,
                   *, tax_code: TaxCode | None = None) -> QuerySet[Line]:
    """The posted lines behind a box's figure (optionally of one tax code, or group), in date order."""
    _check_range(date_from, date_to)
    groups_in_box = (TaxCodeComponent.objects.for_company(company).filter(component__base_box=box)
                     .values("group_id"))
    behind = (Q(tax_code__base_box=box, tax_role=TaxRole.BASE) | Q(tax_code__tax_box=box, tax_role=TaxRole.TAX)
              | Q(tax_code__in=groups_in_box, tax_code__is_group=True, tax_role=TaxRole.BASE))
    lines = _taxed_lines(company, date_from, date_to).filter(behind)
    if not box:
        lines = lines.none()
    if tax_code is not None:
        lines = lines.filter(tax_code=tax_code)
    return (lines.select_related("entry", "account", "tax_code", "party")
            .order_by("date", "entry_id", "position", "id"))


def tax_return_csv(report: TaxReturn) -> str:
    """The return as CSV: one row per box, code and role, then one total row per box."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["box", "tax_code", "role", "amount", "currency", "date_from", "date_to"])
    period = [report.currency, report.date_from.isoformat(), report.date_to.isoformat()]
    for box in report.boxes:
        for part in box.parts:
            writer.writerow([box.box, part.tax_code.code, part.role, f"{part.amount:f}", *period])
        writer.writerow([box.box, "", "total", f"{box.amount:f}", *period])
    return out.getvalue()
