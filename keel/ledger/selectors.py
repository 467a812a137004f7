"""The ledger's reads: querysets and report queries, always for one company.

Reports read the running balances (ledger_balance per period, ledger_daybalance per day for
a range that starts or ends inside a month), so their cost grows with accounts x periods,
not with journal lines.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from keel.core.db_money import MoneySum
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import round_amount
from keel.ledger.choices import BALANCE_SHEET_TYPES, AccountType, PeriodStatus
from keel.ledger.models import (
    Account,
    Balance,
    CostCentre,
    DayBalance,
    Entry,
    FiscalYear,
    Journal,
    Line,
    Period,
)

ZERO = Decimal(0)


def list_accounts(company: Company, *, active_only: bool = False) -> QuerySet[Account]:
    accounts = Account.objects.for_company(company).select_related("group")
    return accounts.filter(is_active=True) if active_only else accounts


def suggest_accounts(company: Company, text: str, *, limit: int) -> list[Account]:
    """At most `limit` + 1 active accounts for a search-as-you-type field: codes starting
    with `text` first (an accountant types "12"), then names containing it, by code (the
    extra one tells the caller that more match)."""
    from django.db.models import Case, IntegerField, Q, Value, When

    term = (text or "").strip()
    if not term:
        return []
    starts = Case(When(code__startswith=term, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(Account.objects.for_company(company).filter(is_active=True)
                .filter(Q(code__startswith=term) | Q(name__icontains=term))
                .order_by(starts, "code", "id").only("pk", "code", "name")[: limit + 1])


def get_account_by_role(company: Company, role: str) -> Account | None:
    """The company's (first active) account with a role, e.g. 'receivable'."""
    return Account.objects.for_company(company).filter(role=role, is_active=True).order_by("code").first()


def list_journals(company: Company) -> QuerySet[Journal]:
    return Journal.objects.for_company(company)


def attach_journal_numbering(company: Company, journals, fiscal_year: int) -> list[Journal]:
    """Set `posted_count` (entries numbered in `fiscal_year`) and `last_number` on each of a
    page of journals, read from their gapless counters in one query: counting the entries
    themselves would read every entry of the company."""
    from keel.core.models import NumberSequence, SequenceCounter
    from keel.core.numbering import format_number

    journals = list(journals)
    sequences = {s.code: s for s in NumberSequence.objects.for_company(company).filter(
        code__in={j.sequence_code for j in journals})}
    counters = {
        (c.sequence_id, c.fiscal_year): c.last_value
        for c in SequenceCounter.objects.for_company(company).filter(
            sequence__in=list(sequences.values()), fiscal_year__in=[fiscal_year, 0])
    }
    for journal in journals:
        sequence = sequences.get(journal.sequence_code)
        year = fiscal_year if sequence is None or sequence.restart_each_fiscal_year else 0
        last = counters.get((sequence.pk, year), 0) if sequence is not None else 0
        journal.posted_count = last
        journal.last_number = format_number(sequence, year, last) if sequence is not None and last else ""
    return journals


def books_started(company: Company) -> str | None:
    """Why the company's books have started (a fiscal year or an entry exists), or None.

    Registered with core (keel.core.services.companies.register_books_started_check): the
    base currency and the fiscal-year start month are fixed from then on."""
    first_year = FiscalYear.objects.for_company(company).order_by("year").values_list("year", flat=True).first()
    if first_year is not None:
        return f"fiscal year FY{first_year} exists"
    if Entry.objects.for_company(company).exists():
        return "entries exist"
    return None


def list_periods(company: Company) -> QuerySet[Period]:
    return Period.objects.for_company(company).select_related("fiscal_year")


def get_period_for_date(company: Company, day: dt.date) -> Period | None:
    return Period.objects.for_company(company).filter(start__lte=day, end__gte=day).first()


def list_entries(company: Company) -> QuerySet[Entry]:
    return Entry.objects.for_company(company).select_related("journal", "period")


def list_lines(company: Company, *, posted_only: bool = True) -> QuerySet[Line]:
    lines = Line.objects.for_company(company)
    return lines.posted() if posted_only else lines



def lines_for_source(company: Company, source_type: str, source_id: str) -> QuerySet[Line]:
    """The posted lines another department's document caused (e.g. an invoice's).

    Repeats the partial index's condition (source_type is not empty) so that SQLite, which
    only uses a partial index whose condition the query states, finds them by index."""
    if not source_type:
        return Line.objects.none()
    return (list_lines(company).exclude(source_type="")
            .filter(source_type=source_type, source_id=str(source_id)).order_by("entry_id", "position", "id"))

def _add(into: dict[int, list[Decimal]], rows) -> None:
    for account_id, debit, credit in rows:
        totals = into[account_id]
        totals[0] += debit or ZERO
        totals[1] += credit or ZERO


def movements(company: Company, start: dt.date | None, end: dt.date, *,
              cost_centre: CostCentre | None = None) -> dict[int, list[Decimal]]:
    """Debit and credit per account of posted lines dated from `start` (or ever) to `end`.

    Whole periods come from the balance table; the days of a period the range cuts come
    from the day balances. Neither reads journal lines, so any range costs about the same.
    Balances are not kept per cost centre: with `cost_centre`, that centre's posted lines
    of the range are summed instead (one grouped query, by the (company, date) index).
    """
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    if start is not None and start > end:
        return totals
    if cost_centre is not None:
        lines = Line.objects.filter(company=company, cost_centre=cost_centre, date__lte=end)
        if start is not None:
            lines = lines.filter(date__gte=start)
        _add(totals, lines.posted().values("account_id").annotate(d=MoneySum("debit"), c=MoneySum("credit"))
             .values_list("account_id", "d", "c").order_by())
        return totals
    periods = Period.objects.for_company(company).filter(start__lte=end)
    if start is not None:
        periods = periods.filter(end__gte=start)
    full, partial = [], []
    for period in periods.only("id", "start", "end"):
        if (start is None or period.start >= start) and period.end <= end:
            full.append(period.pk)
        else:
            partial.append((max(period.start, start) if start else period.start, min(period.end, end)))
    if full:
        _add(totals, Balance.objects.filter(company=company, period_id__in=full)
             .values("account_id").annotate(d=MoneySum("debit"), c=MoneySum("credit")).values_list("account_id", "d", "c")
             .order_by())
    for first, last in partial:
        _add(totals, DayBalance.objects.filter(company=company, date__gte=first, date__lte=last)
             .values("account_id").annotate(d=MoneySum("debit"), c=MoneySum("credit")).values_list("account_id", "d", "c")
             .order_by())
    return totals


PROFIT_AND_LOSS_TYPES = frozenset({AccountType.INCOME, AccountType.EXPENSE})


def closed_years_result(company: Company, before: dt.date, cost_centre: CostCentre | None) -> Decimal:
    """Debit minus credit of the income and expense lines of `cost_centre` in the fiscal years
    closed (or locked) that end before `before`: what their year-end closing entries moved
    into retained earnings for that slice.

    Without a cost centre this is never needed: the closing entry itself brings those
    accounts back to zero. Its lines carry no cost centre, so a cost-centre statement that
    adds up earlier years' income and expenses must leave the closed years out itself,
    or it would show their results as "not yet closed" forever. One grouped query per
    closed year (a company has a handful).
    """
    if cost_centre is None:
        return ZERO
    result = ZERO
    closed = (FiscalYear.objects.for_company(company).filter(end__lt=before)
              .exclude(status=PeriodStatus.OPEN).values_list("start", "end"))
    for start, end in closed:
        totals = movements(company, start, end, cost_centre=cost_centre)
        if not totals:
            continue
        kinds = dict(Account.objects.for_company(company).filter(pk__in=list(totals))
                     .values_list("pk", "account_type"))
        result += sum((debit - credit for pk, (debit, credit) in totals.items()
                       if kinds.get(pk) in PROFIT_AND_LOSS_TYPES), ZERO)
    return result


@dataclass
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    account_type: str
    opening: Decimal  # signed: positive is a debit balance
    debit: Decimal
    credit: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit


@dataclass
class TrialBalance:
    company_id: int
    date_from: dt.date
    date_to: dt.date
    currency: str
    rows: list[TrialBalanceRow] = field(default_factory=list)
    # Only this centre's lines count (None: every line).
    cost_centre: CostCentre | None = None
    # The income and expense of fiscal years before date_from's that were not closed
    # (debit minus credit: a profit is negative). Income and expense accounts open at
    # the start of the fiscal year, so without it the opening column would not add up.
    earlier_result: Decimal = ZERO

    @property
    def total_opening(self) -> Decimal:
        """Opening balances plus the earlier years' result: zero when the books balance."""
        return sum((r.opening for r in self.rows), ZERO) + self.earlier_result

    @property
    def total_closing(self) -> Decimal:
        return sum((r.closing for r in self.rows), ZERO) + self.earlier_result

    @property
    def total_debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def is_balanced(self) -> bool | None:
        """Whether debits equal credits; None (not checked) when filtered by a cost centre.

        Every entry balances, but a cost centre tags only some of an entry's lines (the
        expense, not the bank or the tax line), so a cost-centre slice need not balance,
        and one that happens to proves nothing: calling it "balanced" would mislead."""
        if self.cost_centre is not None:
            return None
        return self.total_debit == self.total_credit and not self.total_opening


def trial_balance(company: Company, date_from: dt.date, date_to: dt.date, *,
                  cost_centre: CostCentre | None = None) -> TrialBalance:
    """Opening balance, debits, credits and closing balance per account for a date range.

    Balance-sheet accounts open with everything before `date_from`; income and expense
    accounts with what happened since the start of `date_from`'s fiscal year, and the
    income and expenses of earlier years not yet closed are `earlier_result` (as the
    balance sheet shows them), so the opening and closing columns add up to zero. Without a
    cost centre this reads running balances only, never journal lines; with one, it sums
    that centre's lines (see `movements`).
    """
    if date_from > date_to:
        raise ValidationFailed("The range ends before it starts.", code="report.invalid_range", field="date_to")
    before = date_from - dt.timedelta(days=1)
    year_start, _ = company.fiscal_year_bounds(company.fiscal_year_of(date_from))
    moved = movements(company, date_from, date_to, cost_centre=cost_centre)
    opening_all = movements(company, None, before, cost_centre=cost_centre)
    opening_year = movements(company, year_start, before, cost_centre=cost_centre) if year_start <= before else {}
    report = TrialBalance(company_id=company.pk, date_from=date_from, date_to=date_to, currency=company.base_currency_id,
                          cost_centre=cost_centre)
    wanted = set(moved) | set(opening_all) | set(opening_year)
    earlier = ZERO
    for account in Account.objects.for_company(company).filter(pk__in=wanted).order_by("code"):
        source = opening_all if account.account_type in BALANCE_SHEET_TYPES else opening_year
        if account.account_type in PROFIT_AND_LOSS_TYPES:
            debit_all, credit_all = opening_all.get(account.pk, (ZERO, ZERO))
            debit_year, credit_year = opening_year.get(account.pk, (ZERO, ZERO))
            earlier += (debit_all - credit_all) - (debit_year - credit_year)
        debit_before, credit_before = source.get(account.pk, (ZERO, ZERO))
        debit, credit = moved.get(account.pk, (ZERO, ZERO))
        opening = debit_before - credit_before
        if opening or debit or credit:
            report.rows.append(TrialBalanceRow(account.pk, account.code, account.name, account.account_type,
                                               opening, debit, credit))
    if earlier and cost_centre is not None:
        earlier -= closed_years_result(company, year_start, cost_centre)
    report.earlier_result = earlier
    return report


def filter_entries(
    company: Company, *, journal: str | None = None, status: str | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, account: str | None = None, q: str | None = None,
) -> QuerySet[Entry]:
    """Entries of the company narrowed by journal code, status, date range, an account code
    (entries with a line on it) and a search of number and reference (the books pages and API)."""
    from django.db.models import Q

    entries = list_entries(company)
    if journal:
        entries = entries.filter(journal__code=journal)
    if status:
        entries = entries.filter(status=status)
    if date_from:
        entries = entries.filter(date__gte=date_from)
    if date_to:
        entries = entries.filter(date__lte=date_to)
    if account:
        # The account's lines by the (company, account, date) index, within the date range
        # when one is given; a correlated EXISTS per entry probed every entry of the company.
        lines = Line.objects.filter(company=company, account__in=Account.objects.for_company(company)
                                    .filter(code=account).values("pk"))
        if date_from:
            lines = lines.filter(date__gte=date_from)
        if date_to:
            lines = lines.filter(date__lte=date_to)
        entries = entries.filter(pk__in=lines.values("entry_id"))
    if q:
        entries = entries.filter(Q(number__icontains=q.strip()) | Q(reference__icontains=q.strip()))
    return entries


def attach_entry_totals(company: Company, entries) -> list[Entry]:
    """Set `total` (sum of debits, in the company's currency and its decimals) on each of a
    page of entries, with one query for the page."""
    entries = list(entries)
    # By entry only: the ids are of the company's entries already, and a company filter here
    # makes SQLite (which keeps no statistics) walk an index that starts with the company,
    # every line of it (160 ms at a million lines), instead of the entry index.
    totals = dict(
        Line.objects.filter(entry_id__in=[e.pk for e in entries if e.company_id == company.pk])
        .values("entry_id").annotate(total=MoneySum("debit")).values_list("entry_id", "total").order_by()
    )
    for entry in entries:
        total = totals.get(entry.pk)
        entry.total = None if total is None else round_amount(total, company.base_currency_id)
    return entries
