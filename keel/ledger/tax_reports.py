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

Boxes have names and some are totals of others (TaxBox: UK box 3 = 1 + 2, box 5 = 3 - 4);
the return shows every box a code names or the company defines, and the net tax payable
(tax collected minus tax deductible, per the codes' kinds; negative: to reclaim).

What a return is computed with (the codes' kinds and boxes, the groups' components, the box
definitions) is a `ReturnSetup`: the company's current one, or the one a filed return kept
(`setup_from_snapshot`), so that recomputing a filed period shows only what postings changed.
"""

from __future__ import annotations

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
from keel.core.spreadsheet import csv_writer
from keel.ledger.choices import TaxKind, TaxRole
from keel.ledger.models import Line, TaxBox, TaxCode, TaxCodeComponent

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
    name: str = ""
    total_of: str = ""  # a total box's formula ("3-4"); its parts are empty

    @property
    def is_total(self) -> bool:
        return bool(self.total_of)


@dataclass
class CodeFigure:
    tax_code: TaxCode
    base: Decimal = ZERO
    tax: Decimal = ZERO


@dataclass
class TaxReturnReport:
    """A return computed from the ledger (a filed one is the model TaxReturn)."""

    date_from: dt.date
    date_to: dt.date
    currency: str
    boxes: list[BoxFigure] = field(default_factory=list)
    codes: list[CodeFigure] = field(default_factory=list)
    net_payable: Decimal = ZERO

    def box(self, name: str) -> Decimal:
        """The figure of one box (zero when nothing was posted to it)."""
        return next((b.amount for b in self.boxes if b.box == name), ZERO)


def box_order(name: str) -> tuple:
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


@dataclass
class BoxDefinition:
    box: str
    name: str
    total_of: str = ""


@dataclass
class ReturnSetup:
    """What a return is computed with: codes by id, groups' components, box definitions."""

    codes: dict[int, TaxCode]
    components: dict[int, list[TaxCode]]
    boxes: list[BoxDefinition]

    def snapshot(self) -> dict:
        """The setup as JSON (kept on a filed return)."""
        return {
            "codes": {str(pk): {"code": c.code, "name": c.name, "kind": c.kind, "base_box": c.base_box,
                                "tax_box": c.tax_box, "is_group": c.is_group, "is_active": c.is_active,
                                "components": [part.pk for part in self.components.get(pk, [])]}
                      for pk, c in self.codes.items()},
            "boxes": [{"box": b.box, "name": b.name, "total_of": b.total_of} for b in self.boxes],
        }


def current_setup(company: Company) -> ReturnSetup:
    """The company's codes, groups and box definitions as they are now."""
    codes = {t.pk: t for t in TaxCode.objects.for_company(company)}
    boxes = [BoxDefinition(b.box, b.name, b.total_of) for b in TaxBox.objects.for_company(company)]
    return ReturnSetup(codes, _group_components(company, codes), boxes)


def setup_from_snapshot(company: Company, snapshot: dict) -> ReturnSetup:
    """The setup a filed return kept; codes created since it was filed count as they are now."""
    current = current_setup(company)
    codes: dict[int, TaxCode] = dict(current.codes)
    kept = snapshot.get("codes", {})
    for key, values in kept.items():
        code = TaxCode(pk=int(key), company_id=company.pk, rate=ZERO, **{
            name: values[name] for name in ("code", "name", "kind", "base_box", "tax_box", "is_group", "is_active")})
        codes[code.pk] = code
    components = dict(current.components)
    for key, values in kept.items():
        if values.get("is_group"):
            components[int(key)] = [codes[pk] for pk in values.get("components", []) if pk in codes]
    boxes = [BoxDefinition(b["box"], b["name"], b.get("total_of", "")) for b in snapshot.get("boxes", [])]
    return ReturnSetup(codes, components, boxes)


def total_terms(formula: str) -> list[tuple[int, str]]:
    """The (sign, box) terms of a total box's formula: "1+2" -> [(1, "1"), (1, "2")], "3-4" ->
    [(1, "3"), (-1, "4")]. Refused with tax_box.invalid_total when it is not that shape."""
    text = re.sub(r"\s+", "", formula or "")
    if not text:
        return []
    if not re.fullmatch(r"[+-]?[\w.]+([+-][\w.]+)*", text):
        raise ValidationFailed(f"'{formula}' is not a sum of boxes (write e.g. 1+2 or 3-4).",
                               code="tax_box.invalid_total", field="total_of")
    terms = []
    for sign, box in re.findall(r"([+-]?)([\w.]+)", text):
        if len(box) > 20:
            raise ValidationFailed("A box is named in at most 20 characters.", code="tax_box.invalid_total",
                                   field="total_of")
        terms.append((-1 if sign == "-" else 1, box))
    return terms


def get_tax_return(company: Company, date_from: dt.date, date_to: dt.date, *,
                   setup: ReturnSetup | None = None) -> TaxReturnReport:
    """Base and tax per box and per tax code of the lines posted from `date_from` to `date_to`,
    the totals boxes and the net tax payable; with the company's current setup unless given."""
    _check_range(date_from, date_to)
    sums = (_taxed_lines(company, date_from, date_to)
            .values("tax_code_id", "tax_role")
            .annotate(debit=MoneySum("debit"), credit=MoneySum("credit"))
            .order_by())
    setup = setup or current_setup(company)
    codes, components = setup.codes, setup.components
    report = TaxReturnReport(date_from=date_from, date_to=date_to, currency=company.base_currency_id)
    per_code: dict[int, CodeFigure] = {}
    boxes: dict[str, BoxFigure] = {}
    for definition in setup.boxes:  # the company's boxes, named, even when empty
        boxes[definition.box] = BoxFigure(definition.box, name=definition.name, total_of=definition.total_of)
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
    report.boxes = sorted(boxes.values(), key=lambda b: box_order(b.box))
    # Totals in box order: a total names boxes before it (checked when it is defined), so
    # the boxes it adds up are final when it is reached.
    figures: dict[str, Decimal] = {}
    for box in report.boxes:
        if box.is_total:
            box.amount = sum((sign * figures.get(name, ZERO) for sign, name in total_terms(box.total_of)), ZERO)
        figures[box.box] = box.amount
    report.codes = sorted(per_code.values(), key=lambda f: f.tax_code.code)
    report.net_payable = sum((f.tax if f.tax_code.kind == TaxKind.SALES else -f.tax for f in report.codes), ZERO)
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


def tax_return_csv(report: TaxReturnReport) -> str:
    """The return as CSV: one row per box, code and role, then one total row per box."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["box", "tax_code", "role", "amount", "currency", "date_from", "date_to"])
    period = [report.currency, report.date_from.isoformat(), report.date_to.isoformat()]
    for box in report.boxes:
        for part in box.parts:
            writer.writerow([box.box, part.tax_code.code, part.role, f"{part.amount:f}", *period])
        writer.writerow([box.box, "", "total", f"{box.amount:f}", *period])
    return out.getvalue()
