"""The trial balance as a report: per account the opening balance, debits, credits and closing
balance of a range, optionally beside the same four figures of a comparison range, for the
whole company or one cost centre.

The figures come from `keel.ledger.selectors.trial_balance` once per range, which reads the
running balances (per period, and per day for the months a range cuts) and never journal
lines; only a cost-centre filter reads lines (by index), as every statement's does.

When fiscal years before the range's were not closed, their income and expenses (which the
income and expense accounts no longer open with) are one more row without an account,
"Results of earlier years not yet closed", as on the balance sheet: so the opening and
closing columns add up to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from keel.core.models import Company
from keel.ledger import selectors
from keel.ledger.reports._common import ZERO, ReportRange, money_quantum, range_label

EARLIER_RESULTS_LABEL = "Results of earlier years not yet closed"


@dataclass
class TrialBalanceLine(selectors.TrialBalanceRow):
    """One account: the selector's four figures in the range and, with a comparison, the same in
    the comparison range. The row of earlier years' results has no account (account_id None)."""

    compare_opening: Decimal | None = None
    compare_debit: Decimal | None = None
    compare_credit: Decimal | None = None

    @property
    def compare_closing(self) -> Decimal | None:
        if self.compare_opening is None:
            return None
        return self.compare_opening + (self.compare_debit or ZERO) - (self.compare_credit or ZERO)

    @property
    def variance(self) -> Decimal | None:
        """Closing balance minus the comparison's closing balance."""
        other = self.compare_closing
        return None if other is None else self.closing - other


@dataclass
class TrialBalanceReport:
    """A trial balance ready to show, export (keel.ledger.exports) or serialise."""

    company: Company
    range: ReportRange
    rows: list[TrialBalanceLine] = field(default_factory=list)
    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    compare_total_debit: Decimal | None = None
    compare_total_credit: Decimal | None = None
    # Opening and closing columns, the earlier years' row included: zero when the books balance.
    total_opening: Decimal = ZERO
    total_closing: Decimal = ZERO
    compare_total_opening: Decimal | None = None
    compare_total_closing: Decimal | None = None
    # None when filtered by a cost centre (see selectors.TrialBalance.is_balanced).
    is_balanced: bool | None = None
    compare_is_balanced: bool | None = None

    kind = "trial_balance"
    title = "Trial balance"

    @property
    def currency(self) -> str:
        return self.company.base_currency_id

    @property
    def has_comparison(self) -> bool:
        return self.range.has_comparison

    @property
    def amount_label(self) -> str:
        return range_label(self.range.date_from, self.range.date_to)

    @property
    def compare_label(self) -> str:
        return range_label(self.range.compare_from, self.range.compare_to) if self.has_comparison else ""


def trial_balance_report(company: Company, period: ReportRange) -> TrialBalanceReport:
    """The trial balance of `period` (a validated `report_range`): every account with a figure in
    the range or the comparison range, by code, rounded to the currency's decimals."""
    step = money_quantum(company)
    current = selectors.trial_balance(company, period.date_from, period.date_to, cost_centre=period.cost_centre)
    compare = (selectors.trial_balance(company, period.compare_from, period.compare_to, cost_centre=period.cost_centre)
               if period.has_comparison else None)
    report = TrialBalanceReport(company, period, is_balanced=current.is_balanced,
                                compare_is_balanced=compare.is_balanced if compare is not None else None)
    lines: dict[int, TrialBalanceLine] = {}
    for row in current.rows:
        lines[row.account_id] = TrialBalanceLine(
            row.account_id, row.code, row.name, row.account_type, row.opening.quantize(step),
            row.debit.quantize(step), row.credit.quantize(step))
    if compare is not None:
        for row in compare.rows:
            line = lines.get(row.account_id)
            if line is None:  # an account with figures only in the comparison range
                line = lines[row.account_id] = TrialBalanceLine(
                    row.account_id, row.code, row.name, row.account_type, ZERO.quantize(step), ZERO.quantize(step),
                    ZERO.quantize(step))
            line.compare_opening = row.opening.quantize(step)
            line.compare_debit = row.debit.quantize(step)
            line.compare_credit = row.credit.quantize(step)
        for line in lines.values():
            if line.compare_opening is None:
                line.compare_opening = line.compare_debit = line.compare_credit = ZERO.quantize(step)
    report.rows = sorted(lines.values(), key=lambda line: line.code)
    earlier_compare = compare.earlier_result if compare is not None else ZERO
    if current.earlier_result or earlier_compare:
        # Earlier years' result neither moves in the range nor belongs to an account: it
        # opens and closes with the same figure, after the accounts.
        earlier = TrialBalanceLine(None, "", EARLIER_RESULTS_LABEL, "equity",  # type: ignore[arg-type]
                                   current.earlier_result.quantize(step), ZERO.quantize(step), ZERO.quantize(step))
        if compare is not None:
            earlier.compare_opening = earlier_compare.quantize(step)
            earlier.compare_debit = earlier.compare_credit = ZERO.quantize(step)
        report.rows.append(earlier)
    report.total_opening = sum((line.opening for line in report.rows), ZERO).quantize(step)
    report.total_closing = sum((line.closing for line in report.rows), ZERO).quantize(step)
    report.total_debit = sum((line.debit for line in report.rows), ZERO).quantize(step)
    report.total_credit = sum((line.credit for line in report.rows), ZERO).quantize(step)
    if compare is not None:
        report.compare_total_debit = sum((line.compare_debit for line in report.rows), ZERO).quantize(step)
        report.compare_total_credit = sum((line.compare_credit for line in report.rows), ZERO).quantize(step)
        report.compare_total_opening = sum((line.compare_opening for line in report.rows), ZERO).quantize(step)
        report.compare_total_closing = sum((line.compare_closing for line in report.rows), ZERO).quantize(step)
    return report
