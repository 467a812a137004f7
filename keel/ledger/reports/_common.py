"""What every financial report shares: its validated parameters, its rows, and fast account totals.

Account totals come from the running balances through `keel.ledger.selectors.movements`:
whole months from ledger_balance, the days of a month the range cuts from
ledger_daybalance, whatever the number of journal lines. A cost-centre filter reads lines
(balances are not kept per cost centre), with one grouped query per range. The year-end
closing entries, which the P&L and cash flow leave out, are read by their source (a few
lines per closed year).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from keel.core.db_money import MoneySum
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import currency_decimals, quantum
from keel.core.records import parse_id
from keel.ledger.choices import CLOSING_SOURCE_TYPE, AccountType
from keel.ledger.models import Account, AccountGroup, CostCentre, Entry, FiscalYear, Line
from keel.ledger.selectors import movements

ZERO = Decimal(0)
HUNDRED = Decimal(100)
EARLIEST = dt.date(1900, 1, 1)
# The fiscal year of any report date must end before the calendar does (date arithmetic never overflows).
LATEST = dt.date(9998, 12, 31)

# Natural sign of each account type: +1 where a debit balance is the usual one.
DEBIT_NATURE = {AccountType.ASSET, AccountType.EXPENSE}


def natural(account_type: str, debit: Decimal, credit: Decimal) -> Decimal:
    """The account's figure in the sign an accountant reads: assets/expenses debit - credit, else credit - debit."""
    return debit - credit if account_type in DEBIT_NATURE else credit - debit


@dataclass(frozen=True)
class ReportRange:
    """The validated parameters of a report: a date range, an optional comparison range and cost centre."""

    date_from: dt.date
    date_to: dt.date
    compare_from: dt.date | None = None
    compare_to: dt.date | None = None
    cost_centre: CostCentre | None = None

    @property
    def has_comparison(self) -> bool:
        return self.compare_to is not None

    def query(self, **extra) -> dict[str, str]:
        """The range as query-string parameters (for links and exports)."""
        params = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.compare_from:
            params["compare_from"] = self.compare_from.isoformat()
        if self.compare_to:
            params["compare_to"] = self.compare_to.isoformat()
        if self.cost_centre:
            params["cost_centre"] = self.cost_centre.code
        params.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
        return params


def get_cost_centre(company: Company, reference) -> CostCentre | None:
    """The company's cost centre by id, code or instance; None for empty; refused when unknown."""
    if reference in (None, ""):
        return None
    if isinstance(reference, CostCentre):
        if reference.company_id != company.pk:
            raise ValidationFailed("No such cost centre.", code="report.unknown_cost_centre", field="cost_centre")
        return reference
    text = str(reference).strip()
    centres = CostCentre.objects.for_company(company)
    found = centres.filter(code=text).first()
    if found is None and parse_id(text) is not None:
        found = centres.filter(pk=parse_id(text)).first()
    if found is None:
        raise ValidationFailed(f"No cost centre '{text[:40]}' in this company.", code="report.unknown_cost_centre",
                               field="cost_centre")
    return found


def report_range(
    company: Company, *, date_from: dt.date | None, date_to: dt.date | None,
    compare_from: dt.date | None = None, compare_to: dt.date | None = None, cost_centre=None,
    as_of: bool = False,
) -> ReportRange:
    """Check a report's parameters: dates in order, comparison complete, cost centre of the company.

    `as_of` reports (the balance sheet) need only `date_to` (and `compare_to`); their
    `date_from` defaults to the start of `date_to`'s fiscal year (used by drill-down links).
    """
    if date_to is None:
        raise ValidationFailed("Give the end of the range (date_to).", code="report.invalid_range", field="date_to")
    for name, day in (("date_from", date_from), ("date_to", date_to), ("compare_from", compare_from),
                      ("compare_to", compare_to)):
        if day is not None and not (EARLIEST <= day <= LATEST):
            raise ValidationFailed(f"Dates must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.",
                                   code="report.invalid_range", field=name)
    if date_from is None:
        if not as_of:
            raise ValidationFailed("Give the start of the range (date_from).", code="report.invalid_range",
                                   field="date_from")
        date_from = company.fiscal_year_bounds(company.fiscal_year_of(date_to))[0]
    if date_from > date_to:
        raise ValidationFailed("The range ends before it starts.", code="report.invalid_range", field="date_to")
    if as_of and compare_to is not None and compare_from is None:
        compare_from = company.fiscal_year_bounds(company.fiscal_year_of(compare_to))[0]
    if (compare_from is None) != (compare_to is None):
        missing = "compare_to" if compare_to is None else "compare_from"
        raise ValidationFailed("Give both ends of the comparison range.", code="report.invalid_range", field=missing)
    if compare_from is not None and compare_to is not None and compare_from > compare_to:
        raise ValidationFailed("The comparison range ends before it starts.", code="report.invalid_range",
                               field="compare_to")
    return ReportRange(date_from, date_to, compare_from, compare_to, get_cost_centre(company, cost_centre))


def range_label(start: dt.date, end: dt.date) -> str:
    """A report column's heading: "2026-01-01 – 2026-03-31"."""
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


def _has_year_end(company: Company, start: dt.date | None, end: dt.date) -> bool:
    """Whether a fiscal year ends in the range (closing entries are dated a year's last day)."""
    year = company.fiscal_year_of(end)
    last_end = company.fiscal_year_bounds(year)[1]
    if last_end > end:
        last_end = company.fiscal_year_bounds(year - 1)[1]
    return start is None or last_end >= start


def closing_entries(company: Company, start: dt.date | None, end: dt.date) -> QuerySet[Entry]:
    """The year-end closing entries (and their reversals) of the fiscal years ending from
    `start` to `end`, found by their source index: a date range would walk every entry of the
    range, and so would the model's (date, id) ordering, which is dropped here."""
    years = FiscalYear.objects.filter(company=company, end__lte=end)
    if start is not None:
        years = years.filter(end__gte=start)
    return Entry.objects.filter(company=company, source_type=CLOSING_SOURCE_TYPE,
                                source_id__in=[str(pk) for pk in years.values_list("pk", flat=True)]).order_by()


def account_totals(company: Company, start: dt.date | None, end: dt.date,
                   cost_centre: CostCentre | None = None, *, without_closing: bool = False) -> dict[int, list[Decimal]]:
    """Debit and credit per account of posted lines from `start` (or ever) to `end`.

    `without_closing` leaves out the year-end closing entries (and their reversals): the
    profit and loss and the cash flow of a closed year show what the year earned, not the
    entry that moved it into retained earnings (the balance sheet and trial balance keep it).
    """
    if end < EARLIEST or (start is not None and start > end):
        return {}
    totals = movements(company, start, end, cost_centre=cost_centre)
    if without_closing and cost_centre is None and _has_year_end(company, start, end):  # no cost centre on them
        entry_ids = [pk for pk, day in closing_entries(company, start, end).values_list("pk", "date")
                     if day <= end and (start is None or day >= start)]
        rows = (Line.objects.filter(company=company, entry_id__in=entry_ids).posted().values("account_id")
                .annotate(d=MoneySum("debit"), c=MoneySum("credit")).values_list("account_id", "d", "c")
                .order_by()) if entry_ids else []
        for account_id, debit, credit in rows:
            totals[account_id][0] -= debit or ZERO
            totals[account_id][1] -= credit or ZERO
    return totals


@dataclass
class ReportRow:
    """One line of a report: a heading, an account, a subtotal or a total, with both columns."""

    kind: str  # heading | account | subtotal | total | info
    label: str
    amount: Decimal | None = None
    compare: Decimal | None = None
    account_id: int | None = None
    code: str = ""
    level: int = 0

    @property
    def variance(self) -> Decimal | None:
        if self.amount is None or self.compare is None:
            return None
        return self.amount - self.compare

    @property
    def variance_percent(self) -> Decimal | None:
        """Variance as a percentage of the comparison figure (None when that is zero)."""
        variance = self.variance
        if variance is None or not self.compare:
            return None
        return (variance * HUNDRED / abs(self.compare)).quantize(Decimal("0.1"))


@dataclass
class Report:
    """A financial statement ready to show, export or serialise."""

    kind: str
    title: str
    company: Company
    range: ReportRange
    rows: list[ReportRow] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    compare_summary: dict[str, object] = field(default_factory=dict)
    # Column headings of the two figures (the comparison's only when there is one).
    amount_label: str = ""
    compare_label: str = ""
    # The range drill-down links open the general ledger for (the comparison column's separately).
    drill_from: dt.date | None = None
    drill_to: dt.date | None = None

    @property
    def currency(self) -> str:
        return self.company.base_currency_id

    @property
    def has_comparison(self) -> bool:
        return bool(self.compare_label)


def money_quantum(company: Company) -> Decimal:
    return quantum(currency_decimals(company.base_currency_id))


def rounded(company: Company, report: Report) -> Report:
    """Round every figure to the currency's decimals (SQLite sums come back with float noise removed
    but with varying exponents; this gives every figure one shape)."""
    step = money_quantum(company)
    for row in report.rows:
        if row.amount is not None:
            row.amount = row.amount.quantize(step)
        if row.compare is not None:
            row.compare = row.compare.quantize(step)
    for summary in (report.summary, report.compare_summary):
        for key, value in summary.items():
            if isinstance(value, Decimal):
                summary[key] = value.quantize(step)
    return report


@dataclass
class Chart:
    """The company's accounts and groups, read once per report (two queries)."""

    accounts: dict[int, Account]
    groups: dict[int, AccountGroup]

    @classmethod
    def load(cls, company: Company) -> Chart:
        return cls(
            accounts={a.pk: a for a in Account.objects.for_company(company).order_by("code")},
            groups={g.pk: g for g in AccountGroup.objects.for_company(company)},
        )

    def group_chain(self, account: Account) -> list[AccountGroup]:
        """The account's group and its ancestors, nearest first."""
        chain, group_id, seen = [], account.group_id, set()
        while group_id and group_id in self.groups and group_id not in seen:
            seen.add(group_id)
            group = self.groups[group_id]
            chain.append(group)
            group_id = group.parent_id
        return chain

    def group_key(self, account: Account) -> tuple:
        group = self.groups.get(account.group_id) if account.group_id else None
        return (0, group.position, group.code) if group else (1, 0, "")

    def group_label(self, account: Account) -> str:
        group = self.groups.get(account.group_id) if account.group_id else None
        return group.name if group else "Other accounts"


def figures(company: Company, chart: Chart, current: dict, compare: dict | None,
            account_types: set[str]) -> dict[int, tuple[Decimal, Decimal | None]]:
    """Natural-sign figures (current, comparison) of the chart's accounts of `account_types`."""
    result = {}
    for account_id in set(current) | set(compare or {}):
        account = chart.accounts.get(account_id)
        if account is None or account.account_type not in account_types:
            continue
        debit, credit = current.get(account_id, (ZERO, ZERO))
        amount = natural(account.account_type, debit, credit)
        other = None
        if compare is not None:
            debit, credit = compare.get(account_id, (ZERO, ZERO))
            other = natural(account.account_type, debit, credit)
        if amount or other:
            result[account_id] = (amount, other)
    return result


def add(left: Decimal | None, right: Decimal | None) -> Decimal | None:
    if left is None and right is None:
        return None
    return (left or ZERO) + (right or ZERO)


def _subtotal_label(label: str, group: AccountGroup | None, section: str, taken: set[str]) -> str:
    """`Total <group>`, qualified when the report already shows that label with another figure.

    A group named like its section ("Income" among the income, "Equity" in equity) would
    otherwise print "Total income" twice, once for the group and once for the whole section,
    with different figures; so would two groups of one name. The section total keeps the plain
    label (it is the figure "Total income" means); the group's becomes "Total income (group)",
    then "(group <code>)" (or, for accounts without a group, the section's name).
    """
    plain = f"Total {label.lower()}"
    candidates = [plain]
    if group is not None:
        candidates += [f"{plain} (group)", f"{plain} (group {group.code})"]
    elif section:
        candidates.append(f"{plain} ({section.lower()})")
    numbered = (f"{plain} ({number})" for number in itertools.count(2))
    chosen = next(c for c in itertools.chain(candidates, numbered) if c.casefold() not in taken)
    taken.add(chosen.casefold())
    return chosen


def grouped_rows(chart: Chart, values: dict[int, tuple[Decimal, Decimal | None]], *, level: int = 1,
                 has_comparison: bool, section: str = "",
                 taken: set[str] | None = None) -> tuple[list[ReportRow], Decimal, Decimal | None]:
    """Rows per account group (heading, accounts, subtotal) and the total of both columns.

    `taken` holds the casefolded labels of the report's other totals (its section totals, and
    the subtotals of groups listed before, which are added to it): a group subtotal never
    repeats one of them (see `_subtotal_label`). `section` is the heading the rows go under.
    """
    taken = set() if taken is None else taken
    by_group: dict[tuple, list[Account]] = defaultdict(list)
    for account_id in values:
        account = chart.accounts[account_id]
        by_group[chart.group_key(account)].append(account)
    rows: list[ReportRow] = []
    total, total_compare = ZERO, (ZERO if has_comparison else None)
    for key in sorted(by_group):
        accounts = sorted(by_group[key], key=lambda a: a.code)
        label = chart.group_label(accounts[0])
        rows.append(ReportRow("heading", label, level=level))
        sub, sub_compare = ZERO, (ZERO if has_comparison else None)
        for account in accounts:
            amount, other = values[account.pk]
            rows.append(ReportRow("account", account.name, amount, other, account.pk, account.code, level + 1))
            sub += amount
            sub_compare = add(sub_compare, other) if has_comparison else None
        group = chart.groups.get(accounts[0].group_id) if accounts[0].group_id else None
        rows.append(ReportRow("subtotal", _subtotal_label(label, group, section, taken), sub, sub_compare,
                              level=level))
        total += sub
        total_compare = add(total_compare, sub_compare) if has_comparison else None
    return rows, total, total_compare
