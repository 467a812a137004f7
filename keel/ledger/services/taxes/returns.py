"""Tax returns: the boxes' names and totals, the filing frequency, and filing.

    tax_return, created = file_tax_return(actor=user, company=company, date_from=q1_start, date_to=q1_end)
    comparison = compare_with_ledger(tax_return)    # filed vs what the ledger says now

Filing stores the return's figures (TaxReturn with its boxes and lines) as computed at that
moment, with what they were computed with (codes' boxes, groups, box definitions). A period
is filed once: filing the same period again gives back the filed return (nothing new is
written), and a range overlapping another filed return is refused. Nothing changes a filed
return afterwards: a posting into its period (a late bill, a reversal) shows as the
difference between the filed figures and the ledger's, recomputed with the filed setup, so a
later change of a code's boxes or a box's name is not a difference; that difference is what
the company files as a correction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from keel.core.activity import record
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import round_amount
from keel.ledger.choices import FilingFrequency
from keel.ledger.events import TAX_RETURN_FILED, TAX_SETTINGS_CHANGED
from keel.ledger.models import TaxBox, TaxCode, TaxReturn, TaxReturnBox, TaxReturnLine, TaxSettings
from keel.ledger.services._common import require
from keel.ledger.tax_reports import (
    TaxReturnReport,
    box_order,
    current_setup,
    get_tax_return,
    setup_from_snapshot,
    total_terms,
)

ZERO = Decimal(0)


# -- settings: filing frequency and boxes --------------------------------------------------


def get_filing_frequency(company: Company) -> str:
    """The company's filing frequency (quarterly unless set)."""
    frequency = TaxSettings.objects.for_company(company).values_list("filing_frequency", flat=True).first()
    return frequency or FilingFrequency.QUARTERLY


def _settings_row(company: Company) -> TaxSettings:
    """The company's settings row, locked (FOR UPDATE): filings and setting changes of one
    company queue on it."""
    TaxSettings.objects.get_or_create(company=company)
    return TaxSettings.objects.select_for_update().get(company=company)


def set_filing_frequency(*, actor, company: Company, frequency: str, check_permission: bool = True) -> TaxSettings:
    """Set how often the company files its return (monthly or quarterly): the return page's default period."""
    require(actor, company, "tax.manage", check_permission=check_permission)
    if frequency not in FilingFrequency.values:
        raise ValidationFailed(f"'{frequency}' is not a filing frequency ({', '.join(FilingFrequency.values)}).",
                               code="tax_settings.invalid_frequency", field="filing_frequency")
    with transaction.atomic():
        row = _settings_row(company)
        if row.filing_frequency != frequency:
            before = row.filing_frequency
            row.filing_frequency = frequency
            row.save(update_fields=["filing_frequency"])
            record(company=company, actor=actor, verb=TAX_SETTINGS_CHANGED.name, subject=row,
                   data={"filing_frequency": frequency, "before": before})
    return row


def filing_period(company: Company, day: dt.date, frequency: str | None = None) -> tuple[dt.date, dt.date]:
    """The month or quarter (of the company's fiscal year) that contains `day`."""
    frequency = frequency or get_filing_frequency(company)
    months = 1 if frequency == FilingFrequency.MONTHLY else 3
    offset = (day.month - company.fiscal_year_start_month) % months
    start_month_index = day.year * 12 + day.month - 1 - offset
    start = dt.date(start_month_index // 12, start_month_index % 12 + 1, 1)
    end_index = start_month_index + months
    end = dt.date(end_index // 12, end_index % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def period_to_file(company: Company, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The latest month or quarter that has ended: the period a company files now."""
    today = today or timezone.localdate()
    current_start, _end = filing_period(company, today)
    return filing_period(company, current_start - dt.timedelta(days=1))


def set_tax_box(*, actor, company: Company, box: str, name: str, total_of: str = "",
                check_permission: bool = True) -> TaxBox:
    """Name a box of the return (created when new), or make it a total of earlier boxes ("1+2").

    A filed return keeps the names it was filed with. A total adds boxes that come before it in
    the return's order and is not a box codes fill (its figure is the formula's).
    """
    require(actor, company, "tax.manage", check_permission=check_permission)
    box, name, total_of = str(box or "").strip(), str(name or "").strip(), str(total_of or "").replace(" ", "")
    if not box or len(box) > 20 or any(c in box for c in "+- "):
        raise ValidationFailed("A box is named in 1 to 20 characters, without spaces, + or -.",
                               code="tax_box.invalid", field="box")
    if not name or len(name) > 300:
        raise ValidationFailed("A box's name has 1 to 300 characters.", code="tax_box.invalid", field="name")
    terms = total_terms(total_of)
    for _sign, other in terms:
        if box_order(other) >= box_order(box):
            raise ValidationFailed(f"A total adds boxes that come before it: box {other} does not come before "
                                   f"box {box}.", code="tax_box.invalid_total", field="total_of")
    if terms and TaxCode.objects.for_company(company).filter(Q(base_box=box) | Q(tax_box=box), is_active=True).exists():
        raise ValidationFailed(f"Tax codes fill box {box}, so it cannot be a total of other boxes.",
                               code="tax_box.filled_by_codes", field="total_of")
    with transaction.atomic():
        _settings_row(company)
        row, created = TaxBox.objects.get_or_create(company=company, box=box,
                                                    defaults={"name": name, "total_of": total_of})
        before = {"name": row.name, "total_of": row.total_of}
        if not created and before != {"name": name, "total_of": total_of}:
            row.name, row.total_of = name, total_of
            row.save(update_fields=["name", "total_of"])
        if created or before != {"name": name, "total_of": total_of}:
            record(company=company, actor=actor, verb=TAX_SETTINGS_CHANGED.name, subject=row,
                   data={"box": box, "name": name, "total_of": total_of, "action": "created" if created else "changed"})
    return row


# -- filing --------------------------------------------------------------------------------


def file_tax_return(*, actor, company: Company, date_from: dt.date, date_to: dt.date,
                    check_permission: bool = True) -> tuple[TaxReturn, bool]:
    """File the return of a period that has ended: store its figures as they are now.

    Returns (the filed return, whether this call filed it). Filing a filed period again gives
    back the return filed before and writes nothing (a correction is the difference
    compare_with_ledger shows); a period overlapping another filed return is refused.
    """
    require(actor, company, "tax.file", check_permission=check_permission)
    if date_from > date_to:
        raise ValidationFailed("The range ends before it starts.", code="report.invalid_range", field="date_to")
    if date_to >= timezone.localdate():
        raise ValidationFailed(f"A return is filed once its period has ended; {date_to.isoformat()} is not past yet.",
                               code="tax_return.period_not_ended", field="date_to")
    with transaction.atomic():
        _settings_row(company)  # one filing of a company at a time
        filed = TaxReturn.objects.for_company(company).filter(date_from__lte=date_to, date_to__gte=date_from)
        same = filed.filter(date_from=date_from, date_to=date_to).first()
        if same is not None:
            return same, False
        other = filed.order_by("date_from").first()
        if other is not None:
            raise ValidationFailed(
                f"The return from {other.date_from.isoformat()} to {other.date_to.isoformat()} is filed already and "
                f"overlaps this period: a period is filed once (a correction shows on the filed return).",
                code="tax_return.overlaps", field="date_from")
        setup = current_setup(company)
        report = get_tax_return(company, date_from, date_to, setup=setup)
        try:
            with transaction.atomic():
                tax_return = TaxReturn.objects.create(
                    company=company, date_from=date_from, date_to=date_to, currency=report.currency,
                    net_payable=report.net_payable, code_figures=_code_figures(report), setup=setup.snapshot(),
                    filed_by=actor if getattr(actor, "pk", None) else None, filed_at=timezone.now())
        except IntegrityError:  # the unique period: a concurrent filing of the same start won
            raise ValidationFailed("This period was filed meanwhile.", code="tax_return.overlaps", field="date_from")
        TaxReturnBox.objects.bulk_create([
            TaxReturnBox(company=company, tax_return=tax_return, position=position, box=box.box, name=box.name,
                         amount=box.amount, is_total=box.is_total)
            for position, box in enumerate(report.boxes)])
        parts = [(box.box, part) for box in report.boxes for part in box.parts]
        TaxReturnLine.objects.bulk_create([
            TaxReturnLine(company=company, tax_return=tax_return, position=position, box=box, tax_code=part.tax_code,
                          role=part.role, amount=part.amount)
            for position, (box, part) in enumerate(parts)])
        record(company=company, actor=actor, verb=TAX_RETURN_FILED.name, subject=tax_return, data={
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "currency": report.currency,
            "net_payable": report.net_payable, "boxes": {box.box: box.amount for box in report.boxes},
        })
    return tax_return, True


def _code_figures(report: TaxReturnReport) -> list[dict[str, Any]]:
    return [{"code": f.tax_code.code, "name": f.tax_code.name, "kind": f.tax_code.kind, "base": f"{f.base:f}",
             "tax": f"{f.tax:f}"} for f in report.codes]


def list_tax_returns(company: Company):
    """The company's filed returns, latest period first."""
    return TaxReturn.objects.for_company(company).select_related("filed_by").order_by("-date_from", "-id")


def find_tax_return(company: Company, date_from: dt.date, date_to: dt.date) -> TaxReturn | None:
    """The return filed for exactly this period, if any."""
    return TaxReturn.objects.for_company(company).filter(date_from=date_from, date_to=date_to).first()


# -- filed versus the ledger ---------------------------------------------------------------


@dataclass
class BoxComparison:
    box: str
    name: str
    filed: Decimal
    current: Decimal
    is_total: bool = False

    @property
    def difference(self) -> Decimal:
        return self.current - self.filed


@dataclass
class ReturnComparison:
    """A filed return next to what the ledger says now for its period, with the filed setup:
    the difference is what postings since filing changed (a correction to file)."""

    tax_return: TaxReturn
    current: TaxReturnReport
    boxes: list[BoxComparison] = field(default_factory=list)

    @property
    def filed_net_payable(self) -> Decimal:
        return round_amount(self.tax_return.net_payable, self.tax_return.currency)

    @property
    def net_payable_difference(self) -> Decimal:
        return self.current.net_payable - self.filed_net_payable

    @property
    def has_difference(self) -> bool:
        return bool(self.net_payable_difference) or any(box.difference for box in self.boxes)


def compare_with_ledger(tax_return: TaxReturn) -> ReturnComparison:
    """The filed figures, box by box, next to the ledger's figures for the same period now."""
    company = tax_return.company
    currency = tax_return.currency
    current = get_tax_return(company, tax_return.date_from, tax_return.date_to,
                             setup=setup_from_snapshot(company, tax_return.setup))
    now = {box.box: box for box in current.boxes}
    comparison = ReturnComparison(tax_return, current)
    seen = set()
    for filed in tax_return.boxes.all():
        live = now.get(filed.box)
        comparison.boxes.append(BoxComparison(filed.box, filed.name, round_amount(filed.amount, currency),
                                              live.amount if live else ZERO, filed.is_total))
        seen.add(filed.box)
    for box in current.boxes:  # a box the filed setup did not show (a code created since)
        if box.box not in seen:
            comparison.boxes.append(BoxComparison(box.box, box.name, ZERO, box.amount, box.is_total))
    return comparison
