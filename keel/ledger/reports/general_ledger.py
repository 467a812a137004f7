"""The general ledger of one account: opening balance, lines with a running balance, closing balance.

The opening balance and the range totals come from the running balances (whole months) plus
the lines of the months cut by the range; the lines are read one key-set page at a time
(ordered by date, entry, line), and a page's starting balance is the opening balance plus
everything before the page's first key, summed in the database -- so any page of an
account with millions of lines costs a few indexed queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from keel.api.pagination import decode_cursor, encode_cursor
from keel.core.db_money import MoneySum
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.records import parse_id
from keel.ledger.choices import BALANCE_SHEET_TYPES
from keel.ledger.models import Account, Balance, Line, Period
from keel.ledger.reports._common import ZERO, ReportRange, money_quantum

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_FIELDS = (
    "id", "entry_id", "date", "label", "debit", "credit", "source_type", "source_id", "cost_centre__code",
    "party__name", "entry__number", "entry__reference", "entry__description", "entry__journal__code",
    "entry__source_type", "entry__source_id",
)


def get_account(company: Company, reference) -> Account:
    """The company's account by id, code or instance; refused (naming the field) when unknown."""
    if isinstance(reference, Account):
        if reference.company_id == company.pk:
            return reference
        reference = None
    text = str(reference).strip() if reference not in (None, "") else ""
    if not text:
        raise ValidationFailed("Choose an account.", code="report.unknown_account", field="account")
    accounts = Account.objects.for_company(company).select_related("group")
    found = accounts.filter(code=text[:20]).first()
    if found is None and parse_id(text) is not None:
        found = accounts.filter(pk=parse_id(text)).first()
    if found is None:
        raise ValidationFailed(f"No account '{text[:40]}' in this company.", code="report.unknown_account",
                               field="account")
    return found


def _posted(lines):
    return lines.posted()


def _line_sum(lines) -> tuple[Decimal, Decimal]:
    sums = _posted(lines).aggregate(d=MoneySum("debit"), c=MoneySum("credit"))
    return sums["d"] or ZERO, sums["c"] or ZERO


def account_sum(company: Company, account: Account, start: dt.date | None, end: dt.date,
                cost_centre=None) -> tuple[Decimal, Decimal]:
    """Debit and credit of one account's posted lines dated `start` (or ever) to `end`."""
    if start is not None and start > end:
        return ZERO, ZERO
    lines = Line.objects.filter(company=company, account=account)
    if cost_centre is not None:
        lines = lines.filter(cost_centre=cost_centre, date__lte=end)
        return _line_sum(lines.filter(date__gte=start) if start else lines)
    periods = Period.objects.for_company(company).filter(start__lte=end)
    if start is not None:
        periods = periods.filter(end__gte=start)
    full, partial = [], Q()
    for period in periods.only("id", "start", "end"):
        if (start is None or period.start >= start) and period.end <= end:
            full.append(period.pk)
        else:
            partial |= Q(date__gte=max(period.start, start) if start else period.start, date__lte=min(period.end, end))
    debit = credit = ZERO
    if full:
        sums = Balance.objects.filter(company=company, account=account, period_id__in=full).aggregate(
            d=MoneySum("debit"), c=MoneySum("credit"))
        debit, credit = sums["d"] or ZERO, sums["c"] or ZERO
    if partial:
        more_debit, more_credit = _line_sum(lines.filter(partial))
        debit, credit = debit + more_debit, credit + more_credit
    return debit, credit


@dataclass
class LedgerLine:
    line_id: int
    entry_id: int
    date: dt.date
    journal: str
    number: str
    reference: str
    label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal
    cost_centre: str
    party: str
    source_type: str
    source_id: str


@dataclass
class GeneralLedger:
    """One account's ledger for a range; `lines` is one page, `page_opening` the balance before it."""

    company: Company
    account: Account
    range: ReportRange
    opening: Decimal
    total_debit: Decimal
    total_credit: Decimal
    lines: list[LedgerLine] = field(default_factory=list)
    page_opening: Decimal = ZERO
    next_cursor: str | None = None
    is_first_page: bool = True

    @property
    def closing(self) -> Decimal:
        return self.opening + self.total_debit - self.total_credit

    @property
    def currency(self) -> str:
        return self.company.base_currency_id


def _opening_start(company: Company, account: Account, date_from: dt.date) -> dt.date | None:
    """Balance-sheet accounts open with everything before the range; income and expense with their fiscal year."""
    if account.account_type in BALANCE_SHEET_TYPES:
        return None
    return company.fiscal_year_bounds(company.fiscal_year_of(date_from))[0]


def _range_lines(company: Company, account: Account, period: ReportRange):
    lines = Line.objects.filter(company=company, account=account, date__gte=period.date_from,
                                date__lte=period.date_to)
    if period.cost_centre is not None:
        lines = lines.filter(cost_centre=period.cost_centre)
    return _posted(lines)


def _cursor_values(cursor: str) -> tuple[dt.date, int, int]:
    try:
        day, entry_id, line_id = decode_cursor(cursor, 3)
        return dt.date.fromisoformat(day), int(entry_id), int(line_id)
    except (TypeError, ValueError):
        raise ValidationFailed("The cursor is not valid; start again without it.", code="cursor.invalid",
                               field="cursor")


def _ledger_line(row: dict, balance: Decimal, step: Decimal) -> LedgerLine:
    return LedgerLine(
        line_id=row["id"], entry_id=row["entry_id"], date=row["date"], journal=row["entry__journal__code"] or "",
        number=row["entry__number"] or "", reference=row["entry__reference"] or "",
        label=row["label"] or row["entry__description"] or "", debit=Decimal(row["debit"]).quantize(step),
        credit=Decimal(row["credit"]).quantize(step), balance=balance.quantize(step),
        cost_centre=row["cost_centre__code"] or "", party=row["party__name"] or "",
        source_type=row["source_type"] or row["entry__source_type"] or "",
        source_id=row["source_id"] or row["entry__source_id"] or "",
    )


def general_ledger(company: Company, account: Account, period: ReportRange, *, cursor: str | None = None,
                   size: int = PAGE_SIZE) -> GeneralLedger:
    """The account's opening balance, totals and closing balance for the range, and one page of its lines."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    step = money_quantum(company)
    before = period.date_from - dt.timedelta(days=1)
    opening_debit, opening_credit = account_sum(company, account, _opening_start(company, account, period.date_from),
                                                before, period.cost_centre)
    debit, credit = account_sum(company, account, period.date_from, period.date_to, period.cost_centre)
    ledger = GeneralLedger(company, account, period, (opening_debit - opening_credit).quantize(step),
                           debit.quantize(step), credit.quantize(step))
    lines = _range_lines(company, account, period).order_by("date", "entry_id", "id")
    balance = ledger.opening
    if cursor:
        day, entry_id, line_id = _cursor_values(cursor)
        if not (period.date_from <= day <= period.date_to):
            raise ValidationFailed("The cursor is not in this range; start again without it.", code="cursor.invalid",
                                   field="cursor")
        after = Q(date__gt=day) | Q(date=day, entry_id__gt=entry_id) | Q(date=day, entry_id=entry_id, id__gt=line_id)
        # Everything of the range up to the cursor: whole days from the balances, the cursor's day from its lines.
        moved_debit, moved_credit = account_sum(company, account, period.date_from, day - dt.timedelta(days=1),
                                                period.cost_centre) if day > period.date_from else (ZERO, ZERO)
        same_debit, same_credit = _line_sum(_range_lines(company, account, period).filter(date=day).exclude(after))
        balance += moved_debit + same_debit - moved_credit - same_credit
        lines = lines.filter(after)
        ledger.is_first_page = False
    ledger.page_opening = balance.quantize(step)
    rows = list(lines.values(*_FIELDS)[: size + 1])
    for row in rows[:size]:
        balance += Decimal(row["debit"]) - Decimal(row["credit"])
        ledger.lines.append(_ledger_line(row, balance, step))
    if len(rows) > size:
        last = rows[size - 1]
        ledger.next_cursor = encode_cursor([last["date"].isoformat(), last["entry_id"], last["id"]])
    return ledger


def iter_ledger_lines(company: Company, account: Account, period: ReportRange, opening: Decimal,
                      *, chunk: int = 5000) -> Iterator[LedgerLine]:
    """Every line of the range with its running balance, read in key-set chunks (for exports)."""
    step = money_quantum(company)
    balance = opening
    after = Q()
    while True:
        rows = list(_range_lines(company, account, period).filter(after).order_by("date", "entry_id", "id")
                    .values(*_FIELDS)[:chunk])
        for row in rows:
            balance += Decimal(row["debit"]) - Decimal(row["credit"])
            yield _ledger_line(row, balance, step)
        if len(rows) < chunk:
            return
        last = rows[-1]
        day, entry_id, line_id = last["date"], last["entry_id"], last["id"]
        after = Q(date__gt=day) | Q(date=day, entry_id__gt=entry_id) | Q(date=day, entry_id=entry_id, id__gt=line_id)
